package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.bulkhead.Bulkhead;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Limits;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.config.ClassifierSettings;
import dev.mlserver.gateway.versions.ShadowMirror;
import dev.mlserver.gateway.versions.Traffic;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Collection;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The pages and documents for people and tools looking at a gateway: the console at {@code /},
 * {@code /status}, {@code /openapi.json} and the Swagger UI at {@code /docs}.
 */
final class DevRoutes {
    private final ClassifierRegistry registry;
    private final Traffic traffic;
    private final ShadowMirror shadows;
    private final GatewayConfig config;
    private final RecentRequests recent;
    private final BooleanSupplier draining;
    private final StaticAssets assets;
    private volatile CachedDocument openApi = new CachedDocument(null, null);

    /** The OpenAPI document for one set of loaded classifier builds. */
    private record CachedDocument(List<String> builds, Buffer json) {}

    private DevRoutes(ClassifierRegistry registry, Traffic traffic, ShadowMirror shadows, GatewayConfig config,
                      RecentRequests recent, BooleanSupplier draining) {
        this.registry = registry;
        this.traffic = traffic;
        this.shadows = shadows;
        this.config = config;
        this.recent = recent;
        this.draining = draining;
        this.assets = StaticAssets.create();
    }

    /** Adds the developer routes; mount before the {@code /:classifier} routes. */
    static void mount(Router router, ClassifierRegistry registry, Traffic traffic, ShadowMirror shadows,
                      GatewayConfig config, RecentRequests recent, BooleanSupplier draining) {
        DevRoutes routes = new DevRoutes(registry, traffic, shadows, config, recent, draining);
        router.get("/").handler(ctx -> routes.page(ctx, "index.html"));
        router.get("/docs").handler(ctx -> routes.page(ctx, "docs.html"));
        router.get("/docs/:file").handler(routes::docsFile);
        router.get("/favicon.ico").handler(ctx -> routes.assets.swaggerUi("favicon-32x32.png")
                .ifPresentOrElse(a -> StaticAssets.send(ctx, a), () -> ctx.fail(404)));
        router.get("/status").handler(routes::status);
        router.get("/openapi.json").handler(routes::openApi);
    }

    private void page(RoutingContext ctx, String name) {
        StaticAssets.send(ctx, assets.own(name).orElseThrow());
    }

    private void docsFile(RoutingContext ctx) {
        String file = ctx.pathParam("file");
        assets.own(file).or(() -> assets.swaggerUi(file)).ifPresentOrElse(a -> StaticAssets.send(ctx, a),
                () -> ctx.fail(new GatewayException(ErrorCode.NOT_FOUND, "no file " + clip(file) + " under /docs")));
    }

    private void openApi(RoutingContext ctx) {
        // one entry per classifier, for its default version; the pinned routes are described once
        Collection<LoadedClassifier> serving = registry.defaults();
        List<String> builds = serving.stream()
                .map(c -> c.info().name() + " " + c.info().version() + " " + c.info().jarSha256()).toList();
        CachedDocument cached = openApi;
        if (!builds.equals(cached.builds())) {
            cached = new CachedDocument(builds, Responses.json(OpenApiDocument.build(serving, config, GatewayVersion.current())));
            openApi = cached;
        }
        Responses.send(ctx.response(), 200, cached.json());
    }

    private void status(RoutingContext ctx) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        ObjectNode gateway = out.putObject("gateway");
        gateway.put("version", GatewayVersion.current());
        gateway.put("repository", config.repository());
        gateway.put("api_version", config.api().version());
        gateway.put("plugins_loaded", registry.initialLoadDone());
        gateway.put("draining", draining.getAsBoolean());
        gateway.put("window_seconds", RecentRequests.SECONDS);
        ArrayNode classifiers = out.putArray("classifiers");
        for (LoadedClassifier c : registry.serving()) {
            classifiers.add(classifier(c));
        }
        ArrayNode plugins = out.putArray("plugins");
        registry.statuses().forEach(s -> plugins.add(Responses.pluginStatus(s)));
        out.set("shadows", shadowComparisons());
        Responses.send(ctx.response(), 200, Responses.json(out));
    }

    /** Every primary and shadow pair compared so far: counts and the agreement rate. */
    private ArrayNode shadowComparisons() {
        ArrayNode out = Json.MAPPER.createArrayNode();
        shadows.comparisons().entrySet().stream()
                .sorted(java.util.Comparator.comparing((java.util.Map.Entry<ShadowMirror.Pair, ShadowMirror.Comparisons> e)
                        -> e.getKey().classifier()).thenComparing(e -> e.getKey().primary()).thenComparing(e -> e.getKey().shadow()))
                .forEach(e -> {
                    ObjectNode pair = out.addObject();
                    pair.put("classifier", e.getKey().classifier());
                    pair.put("primary", e.getKey().primary());
                    pair.put("shadow", e.getKey().shadow());
                    for (ShadowMirror.Outcome o : ShadowMirror.Outcome.values()) {
                        pair.put(o.wire(), e.getValue().of(o));
                    }
                    double rate = e.getValue().agreementRate();
                    if (Double.isNaN(rate)) {
                        pair.putNull("agreement_rate");
                    } else {
                        pair.put("agreement_rate", round(rate, 4));
                    }
                });
        return out;
    }

    private ObjectNode classifier(LoadedClassifier c) {
        ClassifierInfo info = c.info();
        Bulkhead bulkhead = c.bulkhead();
        Limits limits = bulkhead.limits();
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("name", info.name());
        out.put("version", info.version());
        out.put("git_tag", info.gitTag());
        out.put("git_commit", info.gitCommit());
        out.put("state", PluginStatus.State.READY.wire());
        Traffic.Role role = traffic.role(c);
        out.put("role", role.wire());
        ClassifierSettings.Routing routing = traffic.routing(info.name());
        if (role == Traffic.Role.CANARY) {
            out.put("weight", routing.canary().weight());
        } else if (role == Traffic.Role.SHADOW) {
            out.put("sample", routing.shadow().sample());
        }
        out.set("routes", Routes.routes(config, c, role));
        int running = bulkhead.running();
        out.put("slots_available", Math.max(0, limits.maxConcurrentPredictions() - running));
        out.put("in_flight", running);
        out.put("queued", bulkhead.queued());
        ObjectNode l = out.putObject("limits");
        l.put("max_concurrent_predictions", limits.maxConcurrentPredictions());
        l.put("max_queue", limits.maxQueue());
        l.put("queue_timeout_ms", limits.queueTimeoutMs());
        l.put("timeout_ms", limits.timeoutMs());
        l.put("max_batch", limits.maxBatch());
        RecentRequests.Summary last = recent.summary(info.name());
        ObjectNode minute = out.putObject("last_minute");
        minute.put("requests", last.requests());
        minute.put("rate_per_second", round(last.ratePerSecond(), 3));
        putMillis(minute, "p50_ms", last.p50Ms());
        putMillis(minute, "p99_ms", last.p99Ms());
        minute.put("client_errors", last.clientErrors());
        minute.put("server_errors", last.serverErrors());
        return out;
    }

    private static void putMillis(ObjectNode node, String field, double ms) {
        if (Double.isNaN(ms)) {
            node.putNull(field);
        } else {
            node.put(field, round(ms, 3));
        }
    }

    private static double round(double value, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
