package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginDirectory;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.versions.Traffic;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * Plugin administration: {@code GET /admin/plugins} shows every jar's state, version, content
 * hash and load error, and the old versions still draining; {@code POST /admin/plugins/reload}
 * rescans the plugins directory now (for when watching is off). Mounted only when
 * {@code admin.enabled} is true; otherwise these paths answer 404.
 */
public final class AdminRoutes {
    /** Where the admin routes live; a guard for them matches this prefix. */
    public static final String PREFIX = "/admin";

    private final Vertx vertx;
    private final ClassifierRegistry registry;
    private final PluginDirectory directory;
    private final GatewayConfig config;

    private AdminRoutes(Vertx vertx, ClassifierRegistry registry, PluginDirectory directory, GatewayConfig config) {
        this.vertx = vertx;
        this.registry = registry;
        this.directory = directory;
        this.config = config;
    }

    /** Adds the admin routes to {@code router} when {@code admin.enabled} is true. */
    public static void mount(Router router, Vertx vertx, ClassifierRegistry registry, PluginDirectory directory,
                             GatewayConfig config, Traffic traffic, java.util.concurrent.Callable<?> reloadConfig) {
        if (!config.lifecycle().adminEnabled()) {
            return;
        }
        AdminRoutes routes = new AdminRoutes(vertx, registry, directory, config);
        router.get(PREFIX + "/plugins").handler(routes::plugins);
        router.post(PREFIX + "/plugins/reload").handler(routes::reload);
        VersionAdmin.mount(router, PREFIX, vertx, registry, traffic, reloadConfig);
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
