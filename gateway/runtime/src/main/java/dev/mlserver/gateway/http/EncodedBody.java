package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;

/**
 * Request bodies sent compressed ({@code Content-Encoding: gzip} or {@code deflate}, as Triton's
 * and other clients can send them): a coding not read here is refused with 415 before the body is
 * read, and a compressed body is inflated once read, to at most {@code server.max_body_bytes},
 * the limit a plain body has (413 past it). The handlers after it see the inflated body.
 */
public final class EncodedBody {
    private EncodedBody() {}

    /** 415 for a {@code Content-Encoding} not read here; null when the body can be read. */
    public static GatewayException unsupported(HttpServerRequest request) {
        try {
            Inflation.codings(request.getHeader(HttpHeaders.CONTENT_ENCODING));
            return null;
        } catch (Inflation.Unsupported e) {
            return new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Content-Encoding " + clip(request.getHeader(HttpHeaders.CONTENT_ENCODING)) + ": " + e.getMessage());
        }
    }

    /** The handler after the body handler: a compressed body is replaced by what it inflates to. */
    public static Handler<RoutingContext> inflater(long limit) {
        return ctx -> {
            String coding = ctx.request().getHeader(HttpHeaders.CONTENT_ENCODING);
            if (!Inflation.encoded(coding) || ctx.body() == null || ctx.body().buffer() == null) {
                ctx.next();
                return;
            }
            try {
                byte[] body = Inflation.decode(coding, ctx.body().buffer().getBytes(), limit);
                ((RoutingContextInternal) ctx).setBody(Buffer.buffer(body));
            } catch (Inflation.TooLarge e) {
                ctx.fail(new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE, "the body " + e.getMessage() + " (server.max_body_bytes)"));
                return;
            } catch (Inflation.Unsupported e) {
                ctx.fail(new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, e.getMessage()));
                return;
            } catch (Inflation.Failure e) {
                ctx.fail(new GatewayException(ErrorCode.INVALID_JSON, "the body " + e.getMessage()));
                return;
            }
            ctx.next();
        };
    }
}
