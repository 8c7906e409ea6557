package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * Answers requests the HTTP decoder could not parse (a bad request line or header, a line or
 * header block over the limits) with the same JSON error body as every other error, then closes
 * the connection. They never reach the router.
 */
public final class InvalidRequests {
    private InvalidRequests() {}

    public static void handle(HttpServerRequest request) {
        DecoderResult result = request.decoderResult();
        Throwable cause = result == null ? null : result.cause();
        ErrorCode code = ErrorCode.INVALID_INPUT;
        String message = "the request is not valid HTTP/1.1";
        if (cause instanceof TooLongFrameException) {
            String text = String.valueOf(cause.getMessage());
            if (text.startsWith("An HTTP line is larger than")) {
                code = ErrorCode.URI_TOO_LONG;
                message = "the request line is longer than the limit";
            } else if (text.startsWith("HTTP header is larger than")) {
                code = ErrorCode.HEADERS_TOO_LARGE;
                message = "the request headers are larger than the limit";
            }
        } else if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
            // the decoder's own words about the client's request: conflicting lengths, a bad header line
            message = message + ": " + clip(cause.getMessage());
        }
        request.response()
                .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE)
                .setStatusCode(code.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, Responses.JSON_TYPE)
                .end(Responses.error(code, message, null));
    }

    private static String clip(String s) {
        String line = s.replaceAll("[\\r\\n]+", " ");
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
