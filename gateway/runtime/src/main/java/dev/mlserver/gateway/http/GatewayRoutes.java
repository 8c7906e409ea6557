package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginStatus;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;

/** The gateway's own routes for machines: liveness, readiness, metrics and the list of classifiers. */
final class GatewayRoutes implements RouteGroup {
    @Override
    public List<Route> routes(GatewayConfig config) {
        return List.of(
                Route.get("health_live", "/health/live", Access.OPEN)
                        .doc(Route.Doc.gateway(() -> OpenApiDocument.gatewayJson("Liveness: 200 while the process runs."))),
                Route.get("health_ready", "/health/ready", Access.OPEN)
                        .doc(Route.Doc.gateway(() -> OpenApiDocument.healthReady("Readiness: 200 once the plugins are "
                                + "loaded and warmed, 503 while loading, draining or serving nothing."))),
                Route.get("metrics", "/metrics", Access.METRICS)
                        .doc(Route.Doc.gateway(() -> OpenApiDocument.gatewayText("Prometheus text format."))),
                Route.get("classifiers", "/classifiers", Access.TOKEN)
                        .doc(Route.Doc.gateway(() -> OpenApiDocument.gatewayJson(
                                "Every classifier served and the state of every plugin jar (with tokens on: those the token may call)."))));
    }

    @Override
    public Map<String, List<Handler<RoutingContext>>> bind(RouteServices services, RouteTable table) {
        Handlers h = new Handlers(services, table);
        return Map.of(
                "health_live", List.of(ctx -> Responses.send(ctx.response(), 200,
                        Responses.json(Json.MAPPER.createObjectNode().put("status", "live")))),
                "health_ready", List.of(h::ready),
                "metrics", List.of(h::metrics),
                "classifiers", List.of(h::classifiers));
    }

    private static final class Handlers {
        private final RouteServices services;
        private final ClassifierRegistry registry;
        private final RouteTable table;

        Handlers(RouteServices services, RouteTable table) {
            this.services = services;
            this.registry = services.registry();
            this.table = table;
        }

        /** The Prometheus page, rendered off the event loop ({@link dev.mlserver.gateway.metrics.SharedScrape}) and sent from it. */
        void metrics(RoutingContext ctx) {
            Future.fromCompletionStage(services.metrics().sharedScrape().next(), ctx.vertx().getOrCreateContext())
                    .onComplete(page -> {
                        if (page.failed()) {
                            ctx.fail(page.cause());
                        } else if (!ctx.response().closed()) {
                            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                                    .end(page.result());
                        }
                    });
        }

        /**
         * Readiness, with counts for anyone; the jars still loading and the classifiers not ready
         * are named only to a caller who may see them (with tokens on, this open route names none).
         */
        void ready(RoutingContext ctx) {
            Exchange exchange = Exchange.of(ctx);
            boolean loaded = registry.initialLoadDone();
            boolean warm = registry.warm();
            boolean draining = services.draining();
            int serving = registry.classifiers().size();
            List<LoadedClassifier> notReady = registry.notReady();
            boolean ready = loaded && warm && !draining && serving > 0 && notReady.isEmpty();
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.put("status", ready ? "ready" : draining ? "draining" : !loaded ? "loading"
                    : serving == 0 ? "no_classifiers" : !warm ? "warming" : "classifiers_not_ready");
            out.put("classifiers", serving);
            out.put("failed_plugins", registry.statuses().stream().filter(s -> s.state() == PluginStatus.State.FAILED).count());
            List<PluginStatus> pending = registry.pending().stream()
                    .filter(p -> exchange.seesAll() || (p.classifier() != null && exchange.sees(p.classifier()))).toList();
            if (!pending.isEmpty()) {
                ArrayNode loading = out.putArray("loading");
                pending.forEach(p -> loading.addObject().put("jar", p.jar()).put("reason", p.reason()));
            }
            List<LoadedClassifier> shown = notReady.stream().filter(c -> exchange.sees(c.info().name())).toList();
            if (!shown.isEmpty()) {
                ArrayNode stuck = out.putArray("not_ready");
                shown.forEach(c -> stuck.addObject().put("classifier", c.info().name()).put("version", c.info().version())
                        .put("reason", ClassifierRoutes.notReadyReason(c)));
            }
            Responses.send(ctx.response(), ready ? 200 : 503, Responses.json(out));
        }

        void classifiers(RoutingContext ctx) {
            Exchange exchange = Exchange.of(ctx);
            ObjectNode out = Json.MAPPER.createObjectNode();
            ArrayNode list = out.putArray("classifiers");
            for (LoadedClassifier c : Visible.classifiers(registry, exchange)) {
                list.add(ClassifierRoutes.description(c, services.traffic().role(c), table.pathsOf(c.info().name()), false));
            }
            ArrayNode plugins = out.putArray("plugins");
            Visible.plugins(registry, exchange).forEach(s -> plugins.add(Responses.pluginStatus(s)));
            Responses.send(ctx.response(), 200, Responses.json(out));
        }
    }
}
