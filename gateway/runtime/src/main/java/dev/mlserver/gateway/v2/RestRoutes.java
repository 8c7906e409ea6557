package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import dev.mlserver.api.InvalidInputException;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.http.EncodedBody;
import dev.mlserver.gateway.http.Json;
import dev.mlserver.gateway.http.JsonBody;
import dev.mlserver.gateway.http.ProtocolGate;
import dev.mlserver.gateway.http.ProtocolRoute;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import java.util.EnumMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Open Inference Protocol's REST routes under {@code /v2}, as KServe's "Predict Protocol -
 * Version 2" gives them. Errors are {@code {"error": "..."}} with the status of their
 * {@link ErrorCode}; readiness is 200 when true and 400 when false, as the protocol says.
 */
public final class RestRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(RestRoutes.class);
    private static final String HELD = "mlserver.v2.classifier";
    /** Where the protocol's routes live. */
    private static final String ROOT = "/v2";
    /** The path of each route as a pattern: a request for one of them with another method is a 405, any other a 404. */
    private static final Map<ProtocolRoute, Pattern> PATHS = paths();

    private final Inference inference;
    private final ProtocolGate gate;

    private RestRoutes(Inference inference, ProtocolGate gate) {
        this.inference = inference;
        this.gate = gate;
    }

    /**
     * Adds the routes to {@code router}, before the route table's: each checks the caller's token
     * as the native routes do (server health open, a model's routes, its readiness too, need a
     * grant for it, server metadata any token) and records its classifier for the access log.
     *
     * <p>{@code /v2} itself is a route of {@code router}; every path below it is matched in a router
     * of its own, mounted on {@code /v2/*}. So a request for any other path (a native prediction)
     * is tried against that one prefix instead of against each pattern here, one regular
     * expression and one {@code Matcher} apiece. Failures keep their order: the router's first
     * failure handler, then the protocol's.
     */
    public static void mount(Router router, Vertx vertx, Inference inference, GatewayConfig config, GatewayMetrics metrics) {
        RestRoutes routes = new RestRoutes(inference, ProtocolGate.create(config, metrics.registry()));
        Handler<RoutingContext> errors = routes::failed;
        Router below = Router.router(vertx);
        router.route(ROOT).failureHandler(errors);
        below.route().failureHandler(errors);
        BodyHandler body = JsonBody.buffered(config.server().maxBodyBytes());
        Handler<RoutingContext> inflated = EncodedBody.inflater(config.server().maxBodyBytes());
        for (ProtocolRoute route : ProtocolRoute.values()) {
            Handler<RoutingContext> gate = routes.gate(route);
            // the paths below /v2 relative to the router mounted there
            boolean root = route.path().equals(ROOT);
            Router on = root ? router : below;
            String path = root ? ROOT : route.path().substring(ROOT.length());
            switch (route) {
                case SERVER -> on.get(path).handler(gate).handler(routes::server);
                case LIVE -> on.get(path).handler(gate).handler(ctx -> send(ctx, 200, RestCodec.write(g -> {
                    g.writeStartObject();
                    g.writeBooleanField("live", true);
                    g.writeEndObject();
                })));
                case SERVER_READY -> on.get(path).handler(gate).handler(routes::serverReady);
                case METADATA, VERSION_METADATA -> on.get(path).handler(gate).handler(routes::resolve).handler(routes::metadata);
                case READY, VERSION_READY -> on.get(path).handler(gate).handler(routes::modelReady);
                case INFER, VERSION_INFER -> {
                    // the token and the content type are checked before the body is read
                    on.post(path).handler(gate).handler(RestRoutes::requireJson);
                    on.post(path).handler(body).handler(inflated).handler(routes::resolve).handler(routes::infer);
                }
            }
        }
        Handler<RoutingContext> unmatched = ctx -> {
            String allow = allowed(ctx.normalizedPath());
            if (allow.isEmpty()) {
                ctx.fail(new GatewayException(ErrorCode.NOT_FOUND, "no Open Inference Protocol route "
                        + clip(ctx.normalizedPath())));
                return;
            }
            ctx.response().putHeader(HttpHeaders.ALLOW, allow);
            ctx.fail(new GatewayException(ErrorCode.METHOD_NOT_ALLOWED, "method " + ctx.request().method()
                    + " is not allowed on " + clip(ctx.normalizedPath()) + "; it answers " + allow));
        };
        router.route(ROOT).handler(unmatched);
        below.route().handler(unmatched);
        router.route(ROOT + "/*").subRouter(below);
    }

    private static Map<ProtocolRoute, Pattern> paths() {
        Map<ProtocolRoute, Pattern> paths = new EnumMap<>(ProtocolRoute.class);
        for (ProtocolRoute route : ProtocolRoute.values()) {
            paths.put(route, Pattern.compile(route.path().replaceAll(":[a-z]+", "[^/]+")));
        }
        return paths;
    }

    /** The methods the protocol answers on {@code path}, as an {@code Allow} header; empty for a path it does not have. */
    static String allowed(String path) {
        return PATHS.entrySet().stream().filter(e -> e.getValue().matcher(path).matches())
                .map(e -> e.getKey().method().name()).distinct().collect(Collectors.joining(", "));
    }

    private Handler<RoutingContext> gate(ProtocolRoute route) {
        return ctx -> {
            if (gate.admit(ctx, route)) {
                ctx.next();
            }
        };
    }

    private void server(RoutingContext ctx) {
        send(ctx, 200, RestCodec.write(g -> {
            g.writeStartObject();
            g.writeStringField("name", inference.serverName());
            g.writeStringField("version", inference.serverVersion());
            g.writeArrayFieldStart("extensions");
            g.writeString("binary_tensor_data");
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    private void serverReady(RoutingContext ctx) {
        boolean ready = inference.serverReady();
        send(ctx, ready ? 200 : 400, RestCodec.write(g -> {
            g.writeStartObject();
            g.writeBooleanField("ready", ready);
            g.writeEndObject();
        }));
    }

    private void resolve(RoutingContext ctx) {
        LoadedClassifier classifier = inference.enter(ctx.pathParam("classifier"), ctx.pathParam("version"));
        // the access log counts the request, then lets the version go
        ProtocolGate.hold(ctx, classifier);
        ctx.put(HELD, classifier);
        ctx.next();
    }

    private void metadata(RoutingContext ctx) {
        LoadedClassifier classifier = ctx.get(HELD);
        send(ctx, 200, RestCodec.metadata(inference.model(classifier), inference.versions(classifier)));
    }

    private void modelReady(RoutingContext ctx) {
        LoadedClassifier classifier = inference.enter(ctx.pathParam("classifier"), ctx.pathParam("version"));
        ProtocolGate.hold(ctx, classifier);
        boolean ready = !inference.draining();
        send(ctx, ready ? 200 : 400, RestCodec.write(g -> {
            g.writeStartObject();
            g.writeStringField("name", classifier.info().name());
            g.writeStringField("version", classifier.info().version());
            g.writeBooleanField("ready", ready);
            g.writeEndObject();
        }));
    }

    private void infer(RoutingContext ctx) {
        LoadedClassifier classifier = ctx.get(HELD);
        RestCodec.Request request = RestCodec.request(ctx.body().buffer(), ctx.request().getHeader(RestCodec.HEADER_LENGTH));
        inference.infer(classifier, request.request()).onComplete(result -> {
            if (result.failed()) {
                ctx.fail(result.cause());
                return;
            }
            if (result.result().cached()) {
                ProtocolGate.cached(ctx);
            }
            RestCodec.Answer answer = RestCodec.response(result.result(), request);
            if (answer.jsonLength() < 0) {
                send(ctx, 200, answer.body());
            } else {
                ctx.response().setStatusCode(200)
                        .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
                        .putHeader(RestCodec.HEADER_LENGTH, Integer.toString(answer.jsonLength()))
                        .end(answer.body());
            }
        });
    }

    /** A JSON body, or with the binary tensor data extension's header, JSON followed by binary data. */
    private static void requireJson(RoutingContext ctx) {
        String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        boolean binary = ctx.request().getHeader(RestCodec.HEADER_LENGTH) != null;
        if (type != null && !Json.isJsonType(type) && !(binary && Json.mediaType(type).equals("application/octet-stream"))) {
            ctx.fail(new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + clip(type)
                    + " is not JSON; send Content-Type: application/json (or, with binary tensor data and the "
                    + RestCodec.HEADER_LENGTH + " header, application/octet-stream)"));
            return;
        }
        GatewayException coding = EncodedBody.unsupported(ctx.request());
        if (coding != null) {
            ctx.fail(coding);
            return;
        }
        ctx.next();
    }

    /** The one place a failure on a {@code /v2} route becomes a status and {@code {"error": ...}}. */
    private void failed(RoutingContext ctx) {
        if (ctx.response().ended() || ctx.response().headWritten()) {
            return;
        }
        Throwable failure = ctx.failure();
        ErrorCode code;
        String message;
        if (failure instanceof GatewayException e) {
            code = e.code();
            message = e.getMessage();
            e.retryAfterSeconds().ifPresent(s -> ctx.response().putHeader("Retry-After", Integer.toString(s)));
        } else if (failure instanceof InvalidInputException e) {
            code = ErrorCode.INVALID_INPUT;
            message = e.getMessage();
        } else if (failure instanceof HttpException e && e.getStatusCode() == 413) {
            code = ErrorCode.PAYLOAD_TOO_LARGE;
            message = "the request body is larger than the limit";
        } else if (failure == null && ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
            code = ctx.statusCode() == 413 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.INVALID_INPUT;
            message = code == ErrorCode.PAYLOAD_TOO_LARGE ? "the request body is larger than the limit" : "bad request";
        } else if (failure instanceof HttpException e && e.getStatusCode() >= 400 && e.getStatusCode() < 500) {
            code = ErrorCode.INVALID_INPUT;
            message = "bad request";
        } else {
            // anything else is a bug or a classifier failure: logged with the request id, not shown
            ctx.next();
            return;
        }
        if (code == ErrorCode.UNAUTHORIZED && !ctx.response().headers().contains("WWW-Authenticate")) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
        }
        ProtocolGate.error(ctx, code);
        LOG.debug("{} {}: {} {}", ctx.request().method(), ctx.normalizedPath(), code.status(), message);
        send(ctx, code.status(), RestCodec.error(message));
    }

    private static void send(RoutingContext ctx, int status, Buffer body) {
        ctx.response().setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body);
    }
}
