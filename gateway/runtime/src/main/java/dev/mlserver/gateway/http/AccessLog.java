package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * First handler of every request: assigns the request id and, when the response is done,
 * records the classifier metrics and writes one access line to the {@code mlserver.access}
 * logger. A response the client abandoned counts as status 499.
 */
final class AccessLog implements Handler<RoutingContext> {
    static final String LOGGER = "mlserver.access";
    /** How much of a request body an access line holds when payloads are logged. */
    static final int MAX_PAYLOAD_CHARS = 4096;
    static final int CLIENT_CLOSED = 499;

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private final GatewayMetrics metrics;
    private final GatewayConfig.Logging logging;
    private final java.util.function.BooleanSupplier draining;

    AccessLog(GatewayMetrics metrics, GatewayConfig.Logging logging, java.util.function.BooleanSupplier draining) {
        this.metrics = metrics;
        this.logging = logging;
        this.draining = draining;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        RequestIds.assign(ctx);
        if (draining.getAsBoolean()) {
            // shutting down: each client reconnects for its next request, and so finds the new instance
            ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        // not done.succeeded(): after an h2c upgrade the end handler reports a failure even though
        // the response was written in full
        ctx.addEndHandler(done -> finished(ctx, ctx.response().ended() ? ctx.response().getStatusCode() : CLIENT_CLOSED,
                System.nanoTime() - start));
        ctx.next();
    }

    /**
     * Counts and logs the request; then, the request's very last act, lets go of the classifier
     * version it resolved, which a replaced version waits for before it closes.
     */
    private void finished(RoutingContext ctx, int status, long nanos) {
        LoadedClassifier classifier = ctx.get(Routes.CLASSIFIER_KEY);
        try {
            record(ctx, classifier, status, nanos);
        } finally {
            if (classifier != null) {
                classifier.leave();
            }
        }
    }

    private void record(RoutingContext ctx, LoadedClassifier classifier, int status, long nanos) {
        String route = classifier == null ? null : route(ctx.request().path());
        if (classifier != null) {
            metrics.request(classifier, route, status, nanos);
        }
        if (!logging.accessLog() || !LOG.isInfoEnabled()) {
            return;
        }
        LoggingEventBuilder line = LOG.atInfo().setMessage("request")
                .addKeyValue("request_id", RequestIds.get(ctx))
                .addKeyValue("method", ctx.request().method().name())
                .addKeyValue("path", clip(ctx.request().path(), 200))
                .addKeyValue("status", status)
                .addKeyValue("duration_ms", Math.round(nanos / 1000.0) / 1000.0);
        if (classifier != null) {
            line.addKeyValue("classifier", classifier.info().name())
                    .addKeyValue("version", classifier.info().version())
                    .addKeyValue("route", route);
        }
        ErrorCode error = ctx.get(Routes.ERROR_CODE_KEY);
        if (error != null) {
            line.addKeyValue("error", error.wire());
        }
        if (Boolean.TRUE.equals(ctx.get(Routes.CACHED_KEY))) {
            line.addKeyValue("cached", true);
        }
        if (logging.logPayloads()) {
            Buffer body = ctx.body() == null ? null : ctx.body().buffer();
            if (body != null && body.length() > 0) {
                line.addKeyValue("payload", clip(body.toString(StandardCharsets.UTF_8), MAX_PAYLOAD_CHARS));
            }
        }
        line.log();
    }

    /** The route label of a path that resolved a classifier: one of four fixed values. */
    static String route(String path) {
        if (path.endsWith("/predict")) {
            return "predict";
        }
        if (path.endsWith("/predict_proba")) {
            return "predict_proba";
        }
        if (path.endsWith("/ready")) {
            return "ready";
        }
        return "describe";
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
