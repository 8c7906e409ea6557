package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.GatewayException;
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
import io.vertx.core.Handler;
import java.util.Comparator;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pages and documents for people and tools looking at a gateway: the console at {@code /},
 * {@code /status}, {@code /openapi.json} and the Swagger UI at {@code /docs}. The pages and their
 * files hold no data and are open; what they show comes from {@code /status} and
 * {@code /openapi.json}, which with tokens on need one and show only what it may call.
 */
final class DevRoutes implements RouteGroup {
    /** How many OpenAPI documents (one per set of classifier builds a caller may see) are kept. */
    private static final int CACHED_DOCUMENTS = 32;

    @Override
    public List<Route> routes(GatewayConfig config) {
        return List.of(
                Route.get("console", "/", Access.OPEN),
                Route.get("docs", "/docs", Access.OPEN),
                Route.get("docs_file", "/docs/:file", Access.OPEN),
                Route.get("favicon", "/favicon.ico", Access.OPEN),
                Route.get("status", "/status", Access.TOKEN)
                        .doc(Route.Doc.gateway(() -> OpenApiDocument.gatewayJson("Per classifier: prediction slots "
                                + "available, in flight, queued, limits, and the last minute's rate and latency."))),
                Route.get("openapi", "/openapi.json", Access.TOKEN)
                        .doc(Route.Doc.gateway(() -> OpenApiDocument.gatewayJson(
                                "This document, as of the classifiers loaded now (with tokens on: those the token may call)."))));
    }

    @Override
    public Map<String, List<Handler<RoutingContext>>> bind(RouteServices services, RouteTable table) {
        Pages pages = new Pages(services, table);
        return Map.of(
                "console", List.of(ctx -> pages.page(ctx, "index.html")),
                "docs", List.of(ctx -> pages.page(ctx, "docs.html")),
                "docs_file", List.of(pages::docsFile),
                "favicon", List.of(pages::favicon),
                "status", List.of(pages::status),
                "openapi", List.of(pages::openApi));
    }

    private static final class Pages {
        private final ClassifierRegistry registry;
        private final GatewayConfig config;
        private final RecentRequests recent;
        private final RouteServices services;
        private final RouteTable table;
        private final StaticAssets assets;
        /** By the builds the caller may see: the document for them. */
        private final Map<List<String>, Buffer> openApi = new ConcurrentHashMap<>();

        Pages(RouteServices services, RouteTable table) {
            this.services = services;
            this.registry = services.registry();
            this.config = services.config();
            this.recent = services.recent();
            this.table = table;
            this.assets = StaticAssets.create();
        }

        void page(RoutingContext ctx, String name) {
            StaticAssets.send(ctx, assets.own(name).orElseThrow());
        }

        void docsFile(RoutingContext ctx) {
            String file = ctx.pathParam("file");
            assets.own(file).or(() -> assets.swaggerUi(file)).ifPresentOrElse(a -> StaticAssets.send(ctx, a),
                    () -> ctx.fail(new GatewayException(ErrorCode.NOT_FOUND, "no file " + clip(file) + " under /docs")));
        }

        void favicon(RoutingContext ctx) {
            assets.swaggerUi("favicon-32x32.png").ifPresentOrElse(a -> StaticAssets.send(ctx, a), () -> ctx.fail(404));
        }

        void openApi(RoutingContext ctx) {
            // one entry per classifier, for its default version; pinned routes are not documented per version
            List<LoadedClassifier> visible = Visible.classifiers(registry, Exchange.of(ctx)).stream()
                    .filter(c -> registry.find(c.info().name()).orElse(null) == c).toList();
            List<String> builds = visible.stream()
                    .map(c -> c.info().name() + " " + c.info().version() + " " + c.info().jarSha256()).toList();
            Buffer document = openApi.get(builds);
            if (document == null) {
                document = Responses.json(OpenApiDocument.build(table, visible, config, GatewayVersion.current()));
                if (openApi.size() >= CACHED_DOCUMENTS) {
                    openApi.clear(); // the classifiers changed, or many callers see different sets
                }
                openApi.put(builds, document);
            }
            Responses.send(ctx.response(), 200, document);
        }

        void status(RoutingContext ctx) {
            Exchange exchange = Exchange.of(ctx);
            ObjectNode out = Json.MAPPER.createObjectNode();
            ObjectNode gateway = out.putObject("gateway");
            gateway.put("version", GatewayVersion.current());
            gateway.put("repository", config.repository());
            gateway.put("api_version", config.api().version());
            gateway.put("plugins_loaded", registry.initialLoadDone());
            gateway.put("draining", services.draining());
            gateway.put("window_seconds", RecentRequests.SECONDS);
            ArrayNode classifiers = out.putArray("classifiers");
            for (LoadedClassifier c : Visible.classifiers(registry, exchange)) {
                classifiers.add(classifier(c));
            }
            ArrayNode plugins = out.putArray("plugins");
            Visible.plugins(registry, exchange).forEach(s -> plugins.add(Responses.pluginStatus(s)));
            out.set("shadows", shadowComparisons(exchange));
            Responses.send(ctx.response(), 200, Responses.json(out));
        }

        /** Every primary and shadow pair compared so far that the caller may see: counts and agreement rate. */
        private ArrayNode shadowComparisons(Exchange exchange) {
            ArrayNode out = Json.MAPPER.createArrayNode();
            services.shadows().comparisons().entrySet().stream()
                    .filter(e -> exchange.sees(e.getKey().classifier()))
                    .sorted(Comparator.comparing((Map.Entry<ShadowMirror.Pair, ShadowMirror.Comparisons> e)
                            -> e.getKey().classifier()).thenComparing(e -> e.getKey().primary())
                            .thenComparing(e -> e.getKey().shadow()))
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
                            pair.put("agreement_rate", Math.round(rate * 10_000) / 10_000.0);
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
            Traffic.Role role = services.traffic().role(c);
            out.put("role", role.wire());
            ClassifierSettings.Routing routing = services.traffic().routing(info.name());
            if (role == Traffic.Role.CANARY) {
                out.put("weight", routing.canary().weight());
            } else if (role == Traffic.Role.SHADOW) {
                out.put("sample", routing.shadow().sample());
            }
            out.set("routes", ClassifierRoutes.routes(table.pathsOf(info.name()), c, role));
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
}
