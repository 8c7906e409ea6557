package dev.mlserver.gateway;

import java.util.Objects;
import java.util.Optional;

/**
 * The root of the gateway's own exceptions. Each carries an {@link ErrorCode} (and so its
 * status) and a message safe to show a client.
 */
public class GatewayException extends RuntimeException {
    private final ErrorCode code;
    private final Integer retryAfterSeconds;

    public GatewayException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public GatewayException(ErrorCode code, String message, Integer retryAfterSeconds, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ErrorCode code() {
        return code;
    }

    /** Seconds for a {@code Retry-After} header, for 503s. */
    public Optional<Integer> retryAfterSeconds() {
        return Optional.ofNullable(retryAfterSeconds);
    }

    public static GatewayException saturated(String message) {
        return new GatewayException(ErrorCode.CLASSIFIER_SATURATED, message, 1, null);
    }

    public static GatewayException timeout(long timeoutMs) {
        return new GatewayException(ErrorCode.PREDICTION_TIMEOUT, "prediction took longer than " + timeoutMs + " ms");
    }
}
