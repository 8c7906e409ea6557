package dev.mlserver.gateway;

/** Every error a client can see, with its one HTTP status. */
public enum ErrorCode {
    INVALID_JSON(400),
    INVALID_INPUT(400),
    INVALID_CONFIG(400),
    UNAUTHORIZED(401),
    FORBIDDEN(403),
    UNKNOWN_CLASSIFIER(404),
    NOT_FOUND(404),
    METHOD_NOT_ALLOWED(405),
    REQUEST_TIMEOUT(408),
    PAYLOAD_TOO_LARGE(413),
    URI_TOO_LONG(414),
    UNSUPPORTED_MEDIA_TYPE(415),
    EXPECTATION_FAILED(417),
    QUOTA_EXCEEDED(429),
    HEADERS_TOO_LARGE(431),
    INTERNAL_ERROR(500),
    CLASSIFIER_SATURATED(503),
    CLASSIFIER_NOT_READY(503),
    DRAINING(503),
    OVERLOADED(503),
    PREDICTION_TIMEOUT(504),
    HTTP_VERSION_NOT_SUPPORTED(505);

    private final int status;

    ErrorCode(int status) {
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** The code as clients see it: {@code classifier_saturated}. */
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
