package dev.mlserver.gateway.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/** The request id: the client's {@code X-Request-Id} when it is sane, else a new one. */
final class RequestIds {
    static final String HEADER = "X-Request-Id";
    private static final CharSequence HEADER_NAME = HttpHeaders.createOptimized(HEADER);
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    // UUID-shaped ids from a random per-process prefix and a counter: unique across processes
    // like UUID.randomUUID, without a SecureRandom call on the event loop for every request
    private static final long PREFIX = new SecureRandom().nextLong();
    private static final AtomicLong COUNTER = new AtomicLong(new SecureRandom().nextLong());

    private RequestIds() {}

    /** Chooses the request's id and sets it on the response; returns it. */
    static String assign(RoutingContext ctx) {
        String given = ctx.request().getHeader(HEADER_NAME);
        String id = given != null && SANE.matcher(given).matches() ? given : new UUID(PREFIX, COUNTER.getAndIncrement()).toString();
        ctx.response().putHeader(HEADER_NAME, id);
        return id;
    }

    static String get(RoutingContext ctx) {
        Exchange exchange = Exchange.of(ctx);
        return exchange == null ? "-" : exchange.requestId;
    }
}
