package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginDirectory;
import dev.mlserver.gateway.registry.PluginStatus;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;

/**
 * Plugin administration: {@code GET /admin/plugins} shows every jar's state, version, content
 * hash and load error, and the old versions still draining; {@code POST /admin/plugins/reload}
 * rescans the plugins directory now (for when watching is off). They answer 404 unless
 * {@code admin.enabled} is true; with tokens on, only to an admin token (others get 401/403 first).
 */
final class AdminRoutes implements RouteGroup {
    @Override
    public List<Route> routes(GatewayConfig config) {
        boolean on = config.lifecycle().adminEnabled();
        return List.of(
                Route.get("admin_plugins", "/admin/plugins", Access.ADMIN).doc(on ? Route.Doc.gateway(() ->
                        OpenApiDocument.gatewayJson("Every plugin jar: state, version, sha256, load error; old versions still draining."))
                        : Route.Doc.HIDDEN),
                Route.post("admin_reload", "/admin/plugins/reload", Access.ADMIN).doc(on ? Route.Doc.gateway(() ->
                        OpenApiDocument.post("Rescans the plugins directory now: what was loaded, failed and removed."))
                        : Route.Doc.HIDDEN));
    }

    @Override
    public Map<String, List<Handler<RoutingContext>>> bind(RouteServices services, RouteTable table) {
        if (!services.config().lifecycle().adminEnabled()) {
            Handler<RoutingContext> off = ctx -> ctx.fail(new GatewayException(ErrorCode.NOT_FOUND,
                    "the admin routes are off; set admin.enabled: true"));
            return Map.of("admin_plugins", List.of(off), "admin_reload", List.of(off));
        }
        Admin admin = new Admin(services);
        return Map.of("admin_plugins", List.of(admin::plugins), "admin_reload", List.of(admin::reload));
    }

    private static final class Admin {
        private final Vertx vertx;
        private final ClassifierRegistry registry;
        private final PluginDirectory directory;
        private final GatewayConfig config;

        Admin(RouteServices services) {
            this.vertx = services.vertx();
            this.registry = services.registry();
            this.directory = services.directory();
            this.config = services.config();
        }

        private void plugins(RoutingContext ctx) {
            Responses.send(ctx.response(), 200, Responses.json(state()));
        }

        private void reload(RoutingContext ctx) {
            // a scan loads and warms jars: never on the event loop
            vertx.executeBlocking(() -> directory.scan(0), false).onComplete(done -> {
                if (done.failed()) {
                    ctx.fail(done.cause());
                    return;
                }
                PluginDirectory.Scan scan = done.result();
                ObjectNode out = Json.MAPPER.createObjectNode();
                ArrayNode loaded = out.putArray("loaded");
                scan.loaded().forEach(s -> loaded.add(plugin(s)));
                ArrayNode failed = out.putArray("failed");
                scan.failed().forEach(s -> failed.add(plugin(s)));
                ArrayNode removed = out.putArray("removed");
                scan.removed().forEach(removed::add);
                out.put("unchanged", scan.unchanged().size());
                out.setAll(state());
                Responses.send(ctx.response(), 200, Responses.json(out));
            });
        }

        private ObjectNode state() {
            ObjectNode out = Json.MAPPER.createObjectNode();
            ObjectNode watch = out.putObject("watch");
            watch.put("enabled", config.lifecycle().watch());
            watch.put("dir", directory.dir().toAbsolutePath().normalize().toString());
            watch.put("watch_interval_ms", config.lifecycle().watchIntervalMs());
            watch.put("settle_ms", config.lifecycle().settleMs());
            ArrayNode plugins = out.putArray("plugins");
            for (PluginStatus s : registry.statuses()) {
                ObjectNode p = plugin(s);
                registry.find(s.classifier() == null ? "" : s.classifier(), s.version() == null ? "" : s.version())
                        .filter(c -> c.info().jar().getFileName().toString().equals(s.jar()))
                        .ifPresent(c -> p.set("serving", version(c)));
                plugins.add(p);
            }
            ArrayNode retiring = out.putArray("retiring");
            List<LoadedClassifier> draining = registry.retiring();
            draining.forEach(c -> retiring.add(version(c).put("classifier", c.info().name())));
            // loads abandoned at their deadline and predictions of retired versions that never returned
            out.put("abandoned_threads", registry.abandonedThreads());
            out.put("load_timeout_ms", config.lifecycle().loadTimeoutMs());
            return out;
        }

        private static ObjectNode plugin(PluginStatus s) {
            return Responses.pluginStatus(s);
        }

        private static ObjectNode version(LoadedClassifier c) {
            ObjectNode v = Json.MAPPER.createObjectNode();
            v.put("version", c.info().version());
            v.put("sha256", c.info().jarSha256());
            v.put("git_commit", c.info().gitCommit());
            v.put("in_flight", c.bulkhead().admitted());
            return v;
        }
    }
}
