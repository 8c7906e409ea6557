package dev.mlserver.gateway.connection;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.mlserver.gateway.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An answer the connection layer gives on its own, before or instead of the router: the same JSON
 * error body as every other error, {@code Connection: close}, and {@code Retry-After} when
 * trying again later can help.
 *
 * @param reason the label counted in {@code mlserver_http_rejections_total}
 */
record Rejection(ErrorCode code, String message, String reason, boolean retryLater) {
    Rejection {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(reason, "reason");
    }

    static final Rejection HEADER_TIMEOUT = new Rejection(ErrorCode.REQUEST_TIMEOUT,
            "the request headers did not arrive within server.header_timeout_ms", "header_timeout", false);
    static final Rejection BODY_TIMEOUT = new Rejection(ErrorCode.REQUEST_TIMEOUT,
            "the request body did not arrive within server.body_timeout_ms", "body_timeout", false);
    static final Rejection BODY_MEMORY = new Rejection(ErrorCode.OVERLOADED,
            "the gateway holds as many request bodies as its memory allows (server.body_memory_bytes); try again shortly",
            "body_memory", true);
    static final Rejection TOO_MANY_CONNECTIONS = new Rejection(ErrorCode.OVERLOADED,
            "the gateway has as many connections open as it allows (server.max_connections); try again shortly",
            "max_connections", true);
    static final Rejection BAD_CHUNK = new Rejection(ErrorCode.INVALID_INPUT,
            "the chunked request body is malformed", "bad_chunk", false);
    static final Rejection DUPLICATE_HOST = new Rejection(ErrorCode.INVALID_INPUT,
            "the request has more than one Host header (RFC 9112, 3.2)", "duplicate_host", false);
    static final Rejection TRANSFER_ENCODING = new Rejection(ErrorCode.INVALID_INPUT,
            "only Transfer-Encoding: chunked is accepted, in HTTP/1.1, and never with Content-Length", "transfer_encoding",
            false);
    static final Rejection EXPECTATION = new Rejection(ErrorCode.EXPECTATION_FAILED,
            "the only expectation the gateway meets is Expect: 100-continue", "expectation", false);
    static final Rejection HTTP_VERSION = new Rejection(ErrorCode.HTTP_VERSION_NOT_SUPPORTED,
            "this port speaks HTTP/1.1 (and 1.0) only", "http_version", false);

    /** The response, ready for the HTTP encoder. */
    FullHttpResponse response() {
        byte[] body = ("{\"error\":{\"code\":\"" + code.wire() + "\",\"message\":\""
                + new String(JsonStringEncoder.getInstance().quoteAsString(message)) + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(code.status()), Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (retryLater) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
        }
        return response;
    }

    /** The response as raw bytes, for a connection refused before any HTTP handler runs. */
    ByteBuf bytes() {
        FullHttpResponse response = response();
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(response.status()).append("\r\n");
        response.headers().forEach(h -> head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
        head.append("\r\n");
        return Unpooled.wrappedBuffer(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1), response.content());
    }
}
