package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses request targets Vert.x cannot decode. A malformed percent-escape in the path
 * ({@code /%zz}, {@code /%}) or the query ({@code ?x=%zz}) makes Vert.x Web fail while matching
 * routes or reading parameters, with a bare 500; here it is a 400.
 */
final class PathGuard {
    private PathGuard() {}

    static void check(RoutingContext ctx) {
        String path = ctx.request().path();
        String query = ctx.request().query();
        if ((path != null && !wellFormed(path)) || (query != null && !wellFormed(query))) {
            ctx.fail(new GatewayException(ErrorCode.INVALID_INPUT,
                    "the request " + (path != null && !wellFormed(path) ? "path" : "query")
                            + " has a malformed percent-escape; use %XX with two hex digits"));
            return;
        }
        ctx.next();
    }

    static boolean wellFormed(String path) {
        for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
            if (i + 2 >= path.length() || Character.digit(path.charAt(i + 1), 16) < 0
                    || Character.digit(path.charAt(i + 2), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
