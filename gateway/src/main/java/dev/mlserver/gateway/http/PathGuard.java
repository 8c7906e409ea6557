package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses request paths the router cannot decode. A malformed percent-escape ({@code /%zz},
 * {@code /%}) makes Vert.x Web fail inside route matching with a bare 500; here it is a 400.
 */
final class PathGuard {
    private PathGuard() {}

    static void check(RoutingContext ctx) {
        String path = ctx.request().path();
        if (path != null && !wellFormed(path)) {
            ctx.fail(new GatewayException(ErrorCode.INVALID_INPUT,
                    "the request path has a malformed percent-escape; use %XX with two hex digits"));
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
