package dev.mlserver.gateway.metrics;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;

/**
 * The header the gateway's own warm-up requests carry, with a value drawn once per process so
 * that no client can pass for them. The request metrics and the access log tell them apart by it:
 * the warm-up runs their code, but into meters nobody scrapes and lines nobody reads.
 */
public final class WarmupMark {
    public static final String HEADER = "X-Mlserver-Warmup";
    private static final String VALUE = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));

    private WarmupMark() {}

    /** The header to send with a warm-up request. */
    public static Map<String, String> headers() {
        return Map.of(HEADER, VALUE);
    }

    /** Whether a request whose {@link #HEADER} has {@code value} is the gateway's own warm-up. */
    public static boolean carriedBy(String value) {
        return VALUE.equals(value);
    }
}
