package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.metrics.WarmupMark;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * First handler of every request: assigns the request id and begins its {@link Exchange}; when
 * the response is done, records the classifier metrics under the matched route's name (and, for a
 * prediction, the console's last minute) and writes one access line to the {@code mlserver.access}
 * logger. A response the client abandoned counts as status 499.
 */
public final class AccessLog implements Handler<RoutingContext> {
    public static final String LOGGER = "mlserver.access";
    /** How much of a request body an access line holds when payloads are logged. */
    static final int MAX_PAYLOAD_CHARS = 4096;
    static final int CLIENT_CLOSED = 499;

    /**
     * The gateway's own warm-up requests ({@link WarmupMark}) are neither counted nor logged: the
     * cold predictions of every start would fill the latency histograms and the access log. They
     * run the same code as a client's, so that it is compiled before readiness, into meters nobody
     * scrapes and this logger, which logback.xml gives an appender that encodes lines as the
     * console's does and writes them nowhere.
     */
    public static final String WARMUP_LOGGER = LOGGER + ".warmup";

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
    private static final Logger WARMUP_LOG = LoggerFactory.getLogger(WARMUP_LOGGER);

    private final GatewayMetrics metrics;
    private final RecentRequests recent;
    private final GatewayConfig.Logging logging;
    private final BooleanSupplier draining;

    AccessLog(GatewayMetrics metrics, RecentRequests recent, GatewayConfig.Logging logging, BooleanSupplier draining) {
        this.metrics = metrics;
        this.recent = recent;
        this.logging = logging;
        this.draining = draining;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Exchange.begin(ctx, this, RequestIds.assign(ctx));
        if (draining.getAsBoolean()) {
            // shutting down: each client reconnects for its next request, and so finds the new instance
            ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        ctx.next();
    }

    private static boolean warmup(RoutingContext ctx) {
        return WarmupMark.carriedBy(ctx.request().getHeader(WarmupMark.HEADER));
    }

    /**
     * Counts and logs the request (not the gateway's own warm-up); then, the request's very last
     * act, lets go of the classifier version it resolved, which a replaced version waits for before
     * it closes.
     */
    void finished(RoutingContext ctx, Exchange exchange) {
        int status = ctx.response().ended() ? ctx.response().getStatusCode() : CLIENT_CLOSED;
        long nanos = System.nanoTime() - exchange.start;
        LoadedClassifier classifier = exchange.classifier;
        try {
            if ((exchange.prediction || exchange.protocolRoute != null) && warmup(ctx)) {
                if (classifier != null && exchange.route != null) {
                    metrics.warmupRequest(classifier, exchange.route.name(), status, nanos);
                } else if (classifier != null) {
                    metrics.warmupRequest(classifier, GatewayMetrics.V2_REST, exchange.protocolRoute, status, nanos);
                }
                log(WARMUP_LOG, ctx, exchange, status, nanos);
                return;
            }
            if (classifier != null) {
                if (exchange.route != null) {
                    metrics.request(classifier, exchange.route.name(), status, nanos);
                } else {
                    metrics.request(classifier, GatewayMetrics.V2_REST, exchange.protocolRoute, status, nanos);
                }
                if (exchange.prediction) {
                    recent.record(classifier.info().name(), status, nanos);
                }
            }
            log(LOG, ctx, exchange, status, nanos);
        } finally {
            if (classifier != null) {
                classifier.leave();
            }
        }
    }

    private void log(Logger log, RoutingContext ctx, Exchange exchange, int status, long nanos) {
        if (!logging.accessLog() || !log.isInfoEnabled() || (!logging.accessLogProbes() && probe(ctx.request().path()))) {
            return;
        }
        LoggingEventBuilder line = log.atInfo().setMessage("request")
                .addKeyValue("request_id", exchange.requestId)
                .addKeyValue("method", ctx.request().method().name())
                .addKeyValue("path", clip(ctx.request().path(), 200))
                .addKeyValue("status", status)
                .addKeyValue("duration_ms", Math.round(nanos / 1000.0) / 1000.0);
        if (exchange.protocolRoute != null) {
            line.addKeyValue("protocol", GatewayMetrics.V2_REST).addKeyValue("route", exchange.protocolRoute);
        }
        if (exchange.route != null) {
            line.addKeyValue("route", exchange.route.name());
        }
        if (exchange.classifier != null) {
            line.addKeyValue("classifier", exchange.classifier.info().name())
                    .addKeyValue("version", exchange.classifier.info().version());
        }
        if (exchange.grant != null) {
            line.addKeyValue("identity", exchange.grant.identity());
        }
        if (exchange.error != null) {
            line.addKeyValue("error", exchange.error.wire());
        }
        if (exchange.cached) {
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

    /** Health probes and the console's own polling: many a minute, none worth a line unless asked for. */
    static boolean probe(String path) {
        return path.startsWith("/health/") || path.equals("/status");
    }
}
