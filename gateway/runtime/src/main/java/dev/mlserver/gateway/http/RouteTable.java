package dev.mlserver.gateway.http;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Every route of the gateway, each declared once as a {@link Route}, and everything derived
 * from them: the Vert.x router, the token check before each route ({@link Access}), the route
 * label of metrics and access lines, the OpenAPI document, the classifier names no plugin may
 * take, and the 404 and 405 answers.
 *
 * <p>Routes come in {@link RouteGroup}s, matched in the order of {@link #GROUPS}, each group's
 * routes in the order it lists them. Literal paths come before the {@code /:classifier...}
 * patterns that would also match them ({@code /health/ready} before {@code /:classifier/ready}).
 * One exception: the prediction routes (a classifier's {@code POST} routes) are mounted ahead of
 * the other groups, since they take nearly all the traffic and Vert.x Web tries a request against
 * the routes one by one. {@link #create} refuses a table where one of them would then shadow a
 * route it was moved past (the same method and a path both could match).
 *
 * <p>What the router does with a request, in order:
 * <ol>
 *   <li>{@link AccessLog} assigns the request id and begins the {@link Exchange}; {@link PathGuard}
 *       refuses malformed percent-escapes.</li>
 *   <li>The first route whose method and path match: the route is recorded in the exchange
 *       (its {@link Route#name()} is the label of {@code mlserver_requests_total} and of the access
 *       line), {@link TokenGuard} checks its {@link Access} (for {@link Access#CLASSIFIER} against the
 *       router's own {@code :classifier} parameter), then the route's handlers run. A route is
 *       matched once; nothing reads the path again.</li>
 *   <li>A path some route has, with another method: after the same token check, 404
 *       {@code unknown_classifier} when the path names a classifier that is not served, else 405
 *       with {@code Allow} listing the declared methods.</li>
 *   <li>Any other path: 404 {@code not_found}, the same for every caller.</li>
 * </ol>
 *
 * <h2>Adding routes</h2>
 * Write a {@link RouteGroup}: {@code routes(config)} declares each route once (name, method,
 * path, access, OpenAPI entry) and {@code bind(services, table)} returns its handlers by route name; add
 * one line for it to {@link #GROUPS}. For example, the Open Inference Protocol group would declare
 * {@code Route.post("v2_infer", "/v2/models/:classifier/infer", Access.CLASSIFIER)} with a
 * {@code Doc.perClassifier(...)} entry, and the pinned-version group
 * {@code Route.post("pinned_predict", "/:classifier/versions/:version/predict", Access.CLASSIFIER)}.
 * Nothing else changes: the token check, the {@code v2} reserved name, the 404/405 answers, the
 * OpenAPI paths and the token-policy test (which walks {@link #routes()}) follow. A handler that
 * resolves a classifier version holds it with {@code registry.enter} and records it in the
 * exchange ({@code Exchange.of(ctx).classifier = ...}), as {@link ClassifierRoutes} does; the
 * access log lets go of it and counts the request under the route's name. Keep route names
 * unique and stable: they are metric label values.
 */
public final class RouteTable {
    /** Every route group, in matching order. */
    private static final List<RouteGroup> GROUPS = List.of(
            new GatewayRoutes(),
            new DevRoutes(),
            new AdminRoutes(),
            new VersionAdmin(),
            new ClassifierRoutes());

    private final GatewayConfig config;
    private final List<Route> routes;

    private RouteTable(GatewayConfig config, List<Route> routes) {
        this.config = config;
        this.routes = List.copyOf(routes);
    }

    /** The routes of a gateway with {@code config}; needs no server, so tools can read them too. */
    public static RouteTable create(GatewayConfig config) {
        List<Route> routes = new ArrayList<>();
        for (RouteGroup group : GROUPS) {
            routes.addAll(group.routes(config));
        }
        check(routes);
        return new RouteTable(config, routes);
    }

    static void check(List<Route> routes) {
        Set<String> names = new HashSet<>();
        Set<String> endpoints = new HashSet<>();
        Map<String, Access> accessByPath = new HashMap<>();
        for (int i = 0; i < routes.size(); i++) {
            Route route = routes.get(i);
            if (route.matchedEarly()) {
                for (Route passed : routes.subList(0, i)) {
                    if (!passed.matchedEarly() && passed.method() == route.method() && passed.overlaps(route)) {
                        throw new IllegalStateException("route " + route.name() + " is matched early and would take "
                                + route.method() + " " + passed.path() + " from route " + passed.name());
                    }
                }
            }
            if (!names.add(route.name())) {
                throw new IllegalStateException("two routes are named " + route.name());
            }
            if (!endpoints.add(route.method() + " " + route.path())) {
                throw new IllegalStateException("two routes answer " + route.method() + " " + route.path());
            }
            Access before = accessByPath.putIfAbsent(route.path(), route.access());
            if (before != null && before != route.access()) {
                throw new IllegalStateException("routes on " + route.path() + " need one access, not " + before
                        + " and " + route.access() + ": the 405 answer is checked against it");
            }
        }
    }

    /** Every route, in matching order. */
    public List<Route> routes() {
        return routes;
    }

    public Optional<Route> find(String name) {
        return routes.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** The paths of {@code classifier}'s routes, by route name, in table order. */
    public Map<String, String> pathsOf(String classifier) {
        Map<String, String> paths = new LinkedHashMap<>();
        routes.stream().filter(Route::classifierScoped).forEach(r -> paths.put(r.name(), r.openApiPath(classifier)));
        return paths;
    }

    /**
     * First path segments that belong to the gateway, which no classifier may take: the literal
     * first segment of every route, and the API version (reserved even while classifier URLs do
     * not carry it, so that turning {@code api.include_version_in_url} on never hides a classifier).
     */
    public Set<String> reservedNames() {
        Set<String> names = new TreeSet<>();
        routes.forEach(r -> r.reservedSegment().ifPresent(names::add));
        names.add("v2"); // the Open Inference Protocol's REST routes
        names.add(config.api().version());
        return Set.copyOf(names);
    }

    /** The router serving every route from {@code services}. */
    public Router router(RouteServices services) {
        return router(services, r -> { });
    }

    /**
     * The router serving every route from {@code services}, with another protocol's routes (the
     * Open Inference Protocol's {@code /v2}) mounted by {@code protocols} after the access log and
     * before this table's routes, whose {@code /:classifier} would match {@code GET /v2}.
     */
    public Router router(RouteServices services, java.util.function.Consumer<Router> protocols) {
        Router router = Router.router(services.vertx());
        router.route().handler(new AccessLog(services.metrics(), services.recent(), config.logging(), services::draining))
                .handler(PathGuard::check)
                .failureHandler(RouteTable::clientGone);
        protocols.accept(router);
        TokenGuard guard = TokenGuard.create(config, services.metrics().registry());
        Map<String, List<Handler<RoutingContext>>> handlers = bind(services);
        for (Route route : routes) {
            if (route.matchedEarly()) {
                mount(router, route, guard, handlers);
            }
        }
        for (Route route : routes) {
            if (!route.matchedEarly()) {
                mount(router, route, guard, handlers);
            }
        }
        Map<String, List<Route>> byPath = new LinkedHashMap<>();
        routes.forEach(r -> byPath.computeIfAbsent(r.path(), p -> new ArrayList<>()).add(r));
        byPath.forEach((path, onPath) -> router.route(path).handler(new OtherMethod(onPath, guard, services.registry())));
        ErrorResponder errors = new ErrorResponder();
        for (int status : ErrorResponder.STATUSES) {
            router.errorHandler(status, errors);
        }
        return router;
    }

    /**
     * The first failure handler: a request whose client closed the connection (mid-body, say) has
     * no one to answer. It ends here, counted as 499 by the access log, rather than reaching Vert.x
     * Web's last resort, which logs an error with a stack trace for each one: a client could fill
     * the log with them.
     */
    private static void clientGone(RoutingContext ctx) {
        if (ctx.failure() instanceof HttpClosedException || ctx.response().closed()) {
            return;
        }
        ctx.next();
    }

    private static void mount(Router router, Route route, TokenGuard guard, Map<String, List<Handler<RoutingContext>>> handlers) {
        io.vertx.ext.web.Route mounted = router.route(route.method(), route.path()).handler(new Enter(route, guard));
        handlers.get(route.name()).forEach(mounted::handler);
    }

    private Map<String, List<Handler<RoutingContext>>> bind(RouteServices services) {
        Map<String, List<Handler<RoutingContext>>> handlers = new HashMap<>();
        for (RouteGroup group : GROUPS) {
            Set<String> declared = group.routes(config).stream().map(Route::name).collect(Collectors.toSet());
            Map<String, List<Handler<RoutingContext>>> bound = group.bind(services, this);
            if (!bound.keySet().equals(declared)) {
                throw new IllegalStateException(group.getClass().getSimpleName() + " declares " + new TreeSet<>(declared)
                        + " but binds handlers to " + new TreeSet<>(bound.keySet()));
            }
            bound.forEach((name, list) -> {
                if (list.isEmpty()) {
                    throw new IllegalStateException("route " + name + " has no handler");
                }
            });
            handlers.putAll(bound);
        }
        return handlers;
    }

    /**
     * The first handler of a matched route: records it, then checks the caller's token against its
     * access. A platform handler, so that it runs before a body is read: a caller without the
     * right token never makes the gateway buffer one.
     */
    private record Enter(Route route, TokenGuard guard) implements PlatformHandler {
        @Override
        public void handle(RoutingContext ctx) {
            Exchange exchange = Exchange.of(ctx);
            exchange.route = route;
            if (guard.admit(ctx, exchange, route.access())) {
                ctx.next();
            }
        }
    }

    /** A path some route has, asked with a method none of them answers. */
    private static final class OtherMethod implements Handler<RoutingContext> {
        private final Access access;
        private final String allow;
        private final ClassifierRegistry registry;
        private final TokenGuard guard;

        OtherMethod(List<Route> onPath, TokenGuard guard, ClassifierRegistry registry) {
            this.access = onPath.get(0).access();
            this.allow = onPath.stream().map(r -> r.method().name()).distinct().collect(Collectors.joining(", "));
            this.guard = guard;
            this.registry = registry;
        }

        @Override
        public void handle(RoutingContext ctx) {
            if (!guard.admit(ctx, Exchange.of(ctx), access)) {
                return;
            }
            if (access == Access.CLASSIFIER) {
                String name = ctx.pathParam(Route.CLASSIFIER);
                if (registry.find(name).isEmpty()) {
                    ctx.fail(ClassifierRoutes.unknown(name));
                    return;
                }
            }
            ctx.response().putHeader(HttpHeaders.ALLOW, allow);
            ctx.fail(new GatewayException(ErrorCode.METHOD_NOT_ALLOWED, "method " + ctx.request().method().name()
                    + " is not allowed on " + clip(ctx.request().path()) + "; it answers " + allow));
        }
    }

    private static String clip(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
