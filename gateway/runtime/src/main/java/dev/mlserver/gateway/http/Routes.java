package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.versions.ShadowMirror;
import dev.mlserver.gateway.versions.Traffic;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** The gateway's HTTP contract, as one Vert.x Web router. */
public final class Routes {
    static final String CLASSIFIER_KEY = "mlserver.classifier";
    static final String ERROR_CODE_KEY = "mlserver.errorCode";
    static final String CACHED_KEY = "mlserver.cached";
    static final String PINNED_KEY = "mlserver.pinned";
    /** The response header naming the classifier version that answered. */
    public static final String VERSION_HEADER = "X-Model-Version";

    /** First path segments that belong to the gateway; no classifier may take them. */
    public static final Set<String> RESERVED = Set.of("health", "metrics", "classifiers", "admin", "docs", "status",
            "openapi.json", "favicon.ico");

    private final ClassifierRegistry registry;
    private final GatewayConfig config;
    private final GatewayMetrics metrics;
    private final BooleanSupplier draining;
    private final BooleanSupplier refusing;
    private final Traffic traffic;
    private final ShadowMirror shadows;
    private final RecentRequests recent = new RecentRequests();

    private Routes(ClassifierRegistry registry, Traffic traffic, ShadowMirror shadows, GatewayConfig config,
                   GatewayMetrics metrics, BooleanSupplier draining, BooleanSupplier refusing) {
        this.registry = registry;
        this.traffic = traffic;
        this.shadows = shadows;
        this.config = config;
        this.metrics = metrics;
        this.draining = draining;
        this.refusing = refusing;
    }

    /** Reserved names for a gateway with this config: the fixed routes and the API version. */
    public static Set<String> reservedNames(GatewayConfig config) {
        Set<String> names = new java.util.HashSet<>(RESERVED);
        names.add(config.api().version());
        return Set.copyOf(names);
    }

    /**
     * @param traffic which version answers the unpinned routes
     * @param shadows copies answered unpinned predictions to shadow versions
     * @param draining readiness answers 503 (shutdown has begun; requests are still served)
     * @param refusing predictions answer 503 {@code draining} (the grace period is over)
     */
    public static Router create(Vertx vertx, ClassifierRegistry registry, Traffic traffic, ShadowMirror shadows,
                                GatewayConfig config, GatewayMetrics metrics, BooleanSupplier draining,
                                BooleanSupplier refusing) {
        return new Routes(registry, traffic, shadows, config, metrics, draining, refusing).router(vertx);
    }

    private Router router(Vertx vertx) {
        Router router = Router.router(vertx);
        router.route().handler(new AccessLog(metrics, config.logging(), draining)).handler(PathGuard::check);
        AuthHandler.create(config, metrics.registry()).ifPresent(auth -> router.route().handler(auth));
        router.get("/health/live").handler(ctx -> ok(ctx, Json.MAPPER.createObjectNode().put("status", "live")));
        router.get("/health/ready").handler(this::ready);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
        router.get("/classifiers").handler(this::classifiers);
        DevRoutes.mount(router, registry, traffic, shadows, config, recent, draining);

        String prefix = config.api().includeVersionInUrl() ? "/" + config.api().version() : "";
        BodyHandler body = BodyHandler.create(false)
                .setBodyLimit(config.server().maxBodyBytes())
                .setHandleFileUploads(false);
        // the content type is checked before the body is read: a form or multipart body is never decoded
        // each classifier route twice: unpinned (default or canary), and pinned to one version
        for (String base : List.of(prefix + "/:classifier", prefix + "/:classifier/versions/:version")) {
            router.post(base + "/predict").handler(this::requireJson);
            router.post(base + "/predict_proba").handler(this::requireJson);
            router.post(base + "/predict").handler(body).handler(this::resolve).handler(ctx -> predict(ctx, false));
            router.post(base + "/predict_proba").handler(body).handler(this::resolve).handler(ctx -> predict(ctx, true));
            router.get(base + "/ready").handler(this::resolve).handler(this::classifierReady);
            router.get(base).handler(this::resolve).handler(this::describe);
        }

        ErrorResponder errors = new ErrorResponder();
        for (int status : ErrorResponder.STATUSES) {
            router.errorHandler(status, errors);
        }
        return router;
    }

    private void resolve(RoutingContext ctx) {
        String name = ctx.pathParam("classifier");
        String version = ctx.pathParam("version");
        LoadedClassifier classifier = (version == null
                ? traffic.enter(name, ctx.request()::getHeader) : registry.enter(name, version)).orElse(null);
        if (classifier == null) {
            ctx.fail(new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, version == null || registry.find(name).isEmpty()
                    ? "no classifier named '" + clip(name) + "'"
                    : "no version '" + clip(version) + "' of " + name + " is loaded; loaded: " + loaded(name)));
            return;
        }
        ctx.response().putHeader(VERSION_HEADER, classifier.info().version());
        if (version != null) {
            ctx.put(PINNED_KEY, true);
        }
        // AccessLog, whose end handler runs last, counts the request and then lets the version go:
        // a replaced version closes only when its requests have been answered and counted
        ctx.put(CLASSIFIER_KEY, classifier);
        ctx.next();
    }

    private void requireJson(RoutingContext ctx) {
        String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        if (type != null && !isJson(type)) {
            ctx.fail(new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type " + clip(type) + " is not JSON; send Content-Type: application/json"));
            return;
        }
        ctx.next();
    }

    static boolean isJson(String contentType) {
        String mime = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
    }

    private void predict(RoutingContext ctx, boolean probabilities) {
        long start = System.nanoTime();
        LoadedClassifier classifier = ctx.get(CLASSIFIER_KEY);
        ctx.addEndHandler(done -> recent.record(classifier.info().name(), ctx.response().getStatusCode(), System.nanoTime() - start));
        if (refusing.getAsBoolean()) {
            ctx.fail(new GatewayException(ErrorCode.DRAINING, "the gateway is shutting down", 1, null));
            return;
        }
        List<com.fasterxml.jackson.databind.JsonNode> instances =
                RequestBody.instances(ctx.body().buffer(), classifier.info().limits().maxBatch());
        Predictions.answer(classifier, instances, metrics).onComplete(result -> {
            if (result.failed()) {
                ctx.fail(result.cause());
                return;
            }
            Predictions.Answer answer = result.result();
            if (answer.cached()) {
                ctx.put(CACHED_KEY, true);
            }
            double timeMs = (System.nanoTime() - start) / 1e6;
            Responses.send(ctx.response(), 200, Responses.predictions(answer.predictions(), probabilities,
                    classifier.metadataJson(), timeMs, answer.cached()));
            if (ctx.get(PINNED_KEY) == null) {
                shadows.answered(classifier, instances, answer.predictions());
            }
        });
    }

    private void describe(RoutingContext ctx) {
        LoadedClassifier classifier = ctx.get(CLASSIFIER_KEY);
        ok(ctx, description(classifier, true));
    }

    private ObjectNode description(LoadedClassifier classifier, boolean full) {
        ClassifierInfo info = classifier.info();
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("name", info.name());
        out.put("version", info.version());
        out.put("state", PluginStatus.State.READY.wire());
        out.put("description", info.description());
        ArrayNode labels = out.putArray("labels");
        info.labels().forEach(labels::add);
        Traffic.Role role = traffic.role(classifier);
        out.put("role", role.wire());
        out.set("metadata", classifier.metadata());
        out.set("routes", routes(config, classifier, role));
        if (full) {
            out.set("input_schema", info.inputSchema());
            out.set("example", Json.MAPPER.createObjectNode().set("payload", info.example()));
            ObjectNode limits = out.putObject("limits");
            limits.put("max_concurrent_predictions", info.limits().maxConcurrentPredictions());
            limits.put("max_queue", info.limits().maxQueue());
            limits.put("queue_timeout_ms", info.limits().queueTimeoutMs());
            limits.put("timeout_ms", info.limits().timeoutMs());
            limits.put("max_batch", info.limits().maxBatch());
            ObjectNode build = out.putObject("build");
            build.put("jar", info.jar().getFileName().toString());
            build.put("sha256", info.jarSha256());
            build.put("build_time", info.buildTime());
            JsonNode data = info.card().get("data");
            if (data != null) {
                out.set("data", data);
            }
        }
        return out;
    }

    /**
     * The routes of one version: its classifier's unpinned routes when it is the default, else
     * its pinned ones; {@code pinned} always.
     */
    static ObjectNode routes(GatewayConfig config, LoadedClassifier classifier, Traffic.Role role) {
        String prefix = config.api().includeVersionInUrl() ? "/" + config.api().version() : "";
        String unpinned = prefix + "/" + classifier.info().name();
        String pinned = unpinned + "/versions/" + classifier.info().version();
        String base = role == Traffic.Role.DEFAULT ? unpinned : pinned;
        ObjectNode routes = Json.MAPPER.createObjectNode();
        routes.put("describe", base);
        routes.put("predict", base + "/predict");
        routes.put("predict_proba", base + "/predict_proba");
        routes.put("pinned", pinned);
        return routes;
    }

    private String loaded(String name) {
        return registry.versions(name).map(v -> v.all().stream().map(c -> c.info().version()).toList().toString())
                .orElse("none");
    }

    private void classifiers(RoutingContext ctx) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode list = out.putArray("classifiers");
        registry.serving().forEach(c -> list.add(description(c, false)));
        ArrayNode plugins = out.putArray("plugins");
        registry.statuses().forEach(s -> plugins.add(Responses.pluginStatus(s)));
        ok(ctx, out);
    }

    private void ready(RoutingContext ctx) {
        boolean loaded = registry.initialLoadDone();
        boolean draining = this.draining.getAsBoolean();
        int serving = registry.classifiers().size();
        List<LoadedClassifier> notReady = registry.notReady();
        boolean ready = loaded && !draining && serving > 0 && notReady.isEmpty();
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("status", ready ? "ready" : draining ? "draining" : !loaded ? "loading"
                : serving == 0 ? "no_classifiers" : "classifiers_not_ready");
        out.put("classifiers", serving);
        out.put("failed_plugins", registry.statuses().stream().filter(s -> s.state() == PluginStatus.State.FAILED).count());
        List<PluginStatus> pending = registry.pending();
        if (!pending.isEmpty()) {
            ArrayNode loading = out.putArray("loading");
            pending.forEach(p -> loading.addObject().put("jar", p.jar()).put("reason", p.reason()));
        }
        if (!notReady.isEmpty()) {
            ArrayNode stuck = out.putArray("not_ready");
            notReady.forEach(c -> stuck.addObject().put("classifier", c.info().name()).put("version", c.info().version())
                    .put("reason", notReadyReason(c)));
        }
        Responses.send(ctx.response(), ready ? 200 : 503, Responses.json(out));
    }

    private void classifierReady(RoutingContext ctx) {
        LoadedClassifier classifier = ctx.get(CLASSIFIER_KEY);
        if (draining.getAsBoolean()) {
            ctx.fail(new GatewayException(ErrorCode.DRAINING, "the gateway is shutting down", 1, null));
            return;
        }
        if (classifier.bulkhead().stuck()) {
            ctx.fail(new GatewayException(ErrorCode.CLASSIFIER_NOT_READY, notReadyReason(classifier), 1, null));
            return;
        }
        ok(ctx, Json.MAPPER.createObjectNode().put("status", "ready")
                .put("classifier", classifier.info().name()).put("version", classifier.info().version()));
    }

    private static String notReadyReason(LoadedClassifier c) {
        return "all " + c.bulkhead().limits().maxConcurrentPredictions() + " prediction slot(s) are held by predictions that overran "
                + c.bulkhead().limits().timeoutMs() + " ms and have not returned";
    }

    private static void ok(RoutingContext ctx, Object body) {
        Responses.send(ctx.response(), 200, Responses.json(body));
    }

    private static String clip(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

}
