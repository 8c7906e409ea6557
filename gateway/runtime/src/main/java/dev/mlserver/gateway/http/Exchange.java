package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.config.SecurityConfig.TokenGrant;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * What the gateway learns about one request while serving it: the route it matched, the caller's
 * grant, the classifier version it resolved, the error it ended with. Made by {@link AccessLog}
 * as the request's first act and stored once in the routing context; it is also the request's
 * end handler, which counts and logs it.
 */
final class Exchange implements Handler<AsyncResult<Void>> {
    private static final String KEY = "mlserver.exchange";

    final long start = System.nanoTime();
    private final RoutingContext ctx;
    private final AccessLog log;
    final String requestId;
    /** The declared route the request matched; null for a path or method no route has. */
    Route route;
    /** For a request of another protocol's routes (the Open Inference Protocol's {@code /v2}): its route label. */
    String protocolRoute;
    /** The classifier version the request resolved; AccessLog lets go of it when the request is done. */
    LoadedClassifier classifier;
    /** Whether tokens are on; when they are, {@link #grant} is the caller's (null without a valid token). */
    boolean guarded;
    TokenGrant grant;
    ErrorCode error;
    boolean cached;
    /** Whether a classifier's predict handler took the request: the console's last minute counts it. */
    boolean prediction;

    private Exchange(RoutingContext ctx, AccessLog log, String requestId) {
        this.ctx = ctx;
        this.log = log;
        this.requestId = requestId;
    }

    static Exchange begin(RoutingContext ctx, AccessLog log, String requestId) {
        Exchange exchange = new Exchange(ctx, log, requestId);
        ctx.put(KEY, exchange);
        ctx.addEndHandler(exchange);
        return exchange;
    }

    /** This request's exchange; null only for a request the router refused before the access log saw it. */
    static Exchange of(RoutingContext ctx) {
        return ctx.get(KEY);
    }

    /** Whether the caller may see that {@code classifier} exists: tokens off, or its token may call it. */
    boolean sees(String classifier) {
        return !guarded || (grant != null && (grant.admin() || grant.mayCall(classifier)));
    }

    /** Whether the caller may see every classifier, and plugins that never named one. */
    boolean seesAll() {
        return !guarded || (grant != null && (grant.admin() || grant.classifiers().contains("*")));
    }

    @Override
    public void handle(AsyncResult<Void> done) {
        log.finished(ctx, this);
    }
}
