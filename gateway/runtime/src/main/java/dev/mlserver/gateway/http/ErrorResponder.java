package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.InvalidInputException;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.Handler;
import io.vertx.core.VertxException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place an exception or a failed status becomes an HTTP status and a JSON body. Clients
 * see safe messages only; anything unexpected is logged with the request id and shown as a
 * plain 500.
 */
final class ErrorResponder implements Handler<RoutingContext> {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponder.class);

    /** The statuses routed here by the router. */
    static final int[] STATUSES = {400, 401, 403, 404, 405, 406, 408, 413, 414, 415, 417, 429, 431, 500, 501, 503, 504, 505};

    @Override
    public void handle(RoutingContext ctx) {
        if (ctx.response().ended() || ctx.response().headWritten() || ctx.response().closed()) {
            // answered already, or the connection is gone (closed by the client, or by a deadline)
            return;
        }
        Throwable failure = ctx.failure();
        ErrorCode code;
        String message;
        Integer retryAfter = null;
        if (failure instanceof GatewayException e) {
            code = e.code();
            message = e.getMessage();
            retryAfter = e.retryAfterSeconds().orElse(null);
        } else if (failure instanceof InvalidInputException e) {
            code = ErrorCode.INVALID_INPUT;
            message = e.getMessage();
        } else if (failure instanceof HttpException e) {
            code = fromStatus(e.getStatusCode());
            message = defaultMessage(code, ctx);
        } else if (failure instanceof VertxException && ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
            // Vert.x Web refuses some requests itself (no Host header, an empty path): a client error
            code = fromStatus(ctx.statusCode());
            message = failure.getMessage() == null ? defaultMessage(code, ctx) : clip(failure.getMessage());
        } else if (failure != null) {
            code = ErrorCode.INTERNAL_ERROR;
            message = "internal error; quote request id " + RequestIds.get(ctx);
            if (failure instanceof ClassifierException) {
                LOG.error("request {} {} {}: classifier failed: {}", RequestIds.get(ctx), ctx.request().method(),
                        ctx.normalizedPath(), failure.toString(), failure);
            } else {
                LOG.error("request {} {} {}: unexpected failure", RequestIds.get(ctx), ctx.request().method(),
                        ctx.normalizedPath(), failure);
            }
        } else {
            code = fromStatus(ctx.statusCode());
            message = defaultMessage(code, ctx);
        }
        Exchange exchange = Exchange.of(ctx);
        LoadedClassifier classifier = exchange == null ? null : exchange.classifier;
        JsonNode metadata = classifier == null ? null : classifier.metadata();
        if (retryAfter != null) {
            ctx.response().putHeader("Retry-After", Integer.toString(retryAfter));
        }
        if (code == ErrorCode.UNAUTHORIZED && !ctx.response().headers().contains("WWW-Authenticate")) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
        }
        if (exchange != null) {
            exchange.error = code;
        }
        Responses.send(ctx.response(), code.status(), Responses.error(code, message, metadata));
    }

    private static ErrorCode fromStatus(int status) {
        return switch (status) {
            case 400 -> ErrorCode.INVALID_INPUT;
            case 401 -> ErrorCode.UNAUTHORIZED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404 -> ErrorCode.NOT_FOUND;
            case 405 -> ErrorCode.METHOD_NOT_ALLOWED;
            case 408 -> ErrorCode.REQUEST_TIMEOUT;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 414 -> ErrorCode.URI_TOO_LONG;
            case 415 -> ErrorCode.UNSUPPORTED_MEDIA_TYPE;
            case 417 -> ErrorCode.EXPECTATION_FAILED;
            case 429 -> ErrorCode.QUOTA_EXCEEDED;
            case 431 -> ErrorCode.HEADERS_TOO_LARGE;
            case 503 -> ErrorCode.CLASSIFIER_NOT_READY;
            case 504 -> ErrorCode.PREDICTION_TIMEOUT;
            case 505 -> ErrorCode.HTTP_VERSION_NOT_SUPPORTED;
            default -> status >= 400 && status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL_ERROR;
        };
    }

    private static String defaultMessage(ErrorCode code, RoutingContext ctx) {
        return switch (code) {
            case NOT_FOUND -> "no route for " + ctx.request().method() + " " + clip(ctx.request().path());
            case METHOD_NOT_ALLOWED -> "method " + ctx.request().method() + " is not allowed on " + clip(ctx.request().path());
            case PAYLOAD_TOO_LARGE -> "the request body is larger than the limit";
            case UNSUPPORTED_MEDIA_TYPE -> "send Content-Type: application/json";
            case INVALID_INPUT -> "bad request";
            default -> code.wire().replace('_', ' ');
        };
    }

    private static String clip(String path) {
        if (path == null) {
            return "";
        }
        return path.length() <= 200 ? path : path.substring(0, 200) + "...";
    }
}
