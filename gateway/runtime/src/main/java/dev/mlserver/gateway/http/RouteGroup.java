package dev.mlserver.gateway.http;

import dev.mlserver.gateway.config.GatewayConfig;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;

/**
 * Routes declared together and served by one object. {@link #routes} declares them and needs
 * only the config (the reserved classifier names are read from it before anything serves);
 * {@link #bind} gives each of them its handlers when the router is built. {@link RouteTable}
 * checks that the two agree.
 */
public interface RouteGroup {
    /** This group's routes for a gateway with {@code config}, in matching order. */
    List<Route> routes(GatewayConfig config);

    /**
     * The handlers of each of this group's routes, by route name, run in order after the token
     * check. Called once, when {@code table} builds its router; may read files, never blocks
     * afterwards.
     */
    Map<String, List<Handler<RoutingContext>>> bind(RouteServices services, RouteTable table);
}
