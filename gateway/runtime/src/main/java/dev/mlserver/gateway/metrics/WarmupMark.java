package dev.mlserver.gateway.metrics;

import dev.mlserver.gateway.config.SecurityConfig;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's own warm-up requests: the header they carry, with a value drawn once per process
 * so that no client can pass for them, and, with bearer tokens on, the token they send. The
 * request metrics and the access log tell them apart by the header: the warm-up runs their code,
 * but into meters nobody scrapes and lines nobody reads. The token is drawn once per process too,
 * never leaves it but over loopback, and passes the token check only while a warm-up runs, so
 * that the warm-up also runs the token check's real path (the header, its digest, every grant's
 * comparison) before readiness.
 */
public final class WarmupMark {
    public static final String HEADER = "X-Mlserver-Warmup";
    /** Who the warm-up's token says it is, in the access line a warm-up request writes nowhere. */
    public static final String IDENTITY = "mlserver-warmup";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String VALUE = drawn(16);
    private static final String TOKEN = drawn(32);
    private static final byte[] TOKEN_DIGEST = SecurityConfig.sha256(TOKEN);
    /** Warm-ups running now in this process (tests run several gateways in one). */
    private static final AtomicInteger RUNNING = new AtomicInteger();

    private WarmupMark() {}

    /** The headers of a warm-up request: the mark, and with {@code tokens} on, its bearer token. */
    public static Map<String, String> headers(boolean tokens) {
        return tokens ? Map.of(HEADER, VALUE, "Authorization", "Bearer " + TOKEN) : Map.of(HEADER, VALUE);
    }

    /** Whether a request whose {@link #HEADER} has {@code value} is the gateway's own warm-up. */
    public static boolean carriedBy(String value) {
        return VALUE.equals(value);
    }

    /** A warm-up begins: its token passes from now until it has {@link #ended}. */
    public static void began() {
        RUNNING.incrementAndGet();
    }

    public static void ended() {
        RUNNING.decrementAndGet();
    }

    /** Whether a bearer token whose SHA-256 is {@code digest} is the warm-up's, while a warm-up runs; in constant time. */
    public static boolean admits(byte[] digest) {
        return MessageDigest.isEqual(TOKEN_DIGEST, digest) && RUNNING.get() > 0;
    }

    private static String drawn(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return HexFormat.of().formatHex(random);
    }
}
