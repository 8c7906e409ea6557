package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.versions.Traffic;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;

/**
 * The routes of one classifier: predict, predict_proba, its readiness and its description, under
 * {@code /<api_version>} when {@code api.include_version_in_url} is on; each twice, unpinned
 * (its default version, or its canary for a share) and pinned to one loaded version
 * ({@code /<classifier>/versions/<version>/...}). Every answer names its version in
 * {@value #VERSION_HEADER}.
 */
final class ClassifierRoutes implements RouteGroup {
    /** The response header naming the classifier version that answered. */
    static final String VERSION_HEADER = "X-Model-Version";
    /** The path parameter of the pinned routes. */
    static final String VERSION = "version";

    @Override
    public List<Route> routes(GatewayConfig config) {
        String prefix = prefix(config);
        return List.of(
                Route.post("predict", prefix + "/:classifier/predict", Access.CLASSIFIER)
                        .doc(Route.Doc.perClassifier(ci -> OpenApiDocument.predict(ci, false))),
                Route.post("predict_proba", prefix + "/:classifier/predict_proba", Access.CLASSIFIER)
                        .doc(Route.Doc.perClassifier(ci -> OpenApiDocument.predict(ci, true))),
                Route.get("ready", prefix + "/:classifier/ready", Access.CLASSIFIER)
                        .doc(Route.Doc.perClassifier(OpenApiDocument::ready)),
                Route.get("describe", prefix + "/:classifier", Access.CLASSIFIER)
                        .doc(Route.Doc.perClassifier(OpenApiDocument::describe)),
                Route.post("pinned_predict", prefix + "/:classifier/versions/:version/predict", Access.CLASSIFIER),
                Route.post("pinned_predict_proba", prefix + "/:classifier/versions/:version/predict_proba", Access.CLASSIFIER),
                Route.get("pinned_ready", prefix + "/:classifier/versions/:version/ready", Access.CLASSIFIER),
                Route.get("pinned_describe", prefix + "/:classifier/versions/:version", Access.CLASSIFIER));
    }

    /** Where classifier routes live: {@code /v1} with versioned URLs, else the root. */
    static String prefix(GatewayConfig config) {
        return config.api().includeVersionInUrl() ? "/" + config.api().version() : "";
    }

    @Override
    public Map<String, List<Handler<RoutingContext>>> bind(RouteServices services, RouteTable table) {
        Handlers h = new Handlers(services, table);
        JsonBody body = JsonBody.create(services.config().server().maxBodyBytes());
        Handler<RoutingContext> inflated = EncodedBody.inflater(services.config().server().maxBodyBytes());
        return Map.of(
                "predict", List.of(body, inflated, h::resolve, ctx -> h.predict(ctx, false, false)),
                "predict_proba", List.of(body, inflated, h::resolve, ctx -> h.predict(ctx, true, false)),
                "ready", List.of(h::resolve, h::ready),
                "describe", List.of(h::resolve, h::describe),
                "pinned_predict", List.of(body, inflated, h::resolve, ctx -> h.predict(ctx, false, true)),
                "pinned_predict_proba", List.of(body, inflated, h::resolve, ctx -> h.predict(ctx, true, true)),
                "pinned_ready", List.of(h::resolve, h::ready),
                "pinned_describe", List.of(h::resolve, h::describe));
    }

    /** 404 {@code unknown_classifier}: the answer for every name that is not served. */
    static GatewayException unknown(String name) {
        return new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, "no classifier named '" + clip(name) + "'");
    }

    /**
     * What {@code GET /<classifier>} shows ({@code full}) and {@code /classifiers} lists for each
     * classifier; {@code routes} are its paths by route name.
     */
    static ObjectNode description(LoadedClassifier classifier, Traffic.Role role, Map<String, String> routes, boolean full) {
        ClassifierInfo info = classifier.info();
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("name", info.name());
        out.put("version", info.version());
        out.put("role", role.wire());
        out.put("state", PluginStatus.State.READY.wire());
        out.put("description", info.description());
        ArrayNode labels = out.putArray("labels");
        info.labels().forEach(labels::add);
        out.set("metadata", classifier.metadata());
        out.set("routes", routes(routes, classifier, role));
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
     * The routes of one version: its classifier's unpinned routes ({@code pathsOf}) when it is the
     * default, else its pinned ones.
     */
    static ObjectNode routes(Map<String, String> pathsOf, LoadedClassifier c, Traffic.Role role) {
        ObjectNode paths = Json.MAPPER.createObjectNode();
        String pinned = "pinned_";
        boolean unpinned = role == Traffic.Role.DEFAULT;
        pathsOf.forEach((name, path) -> {
            if (unpinned && !name.startsWith(pinned)) {
                paths.put(name, path);
            } else if (!unpinned && name.startsWith(pinned)) {
                paths.put(name.substring(pinned.length()), path.replace("{" + VERSION + "}", c.info().version()));
            }
        });
        return paths;
    }

    /** Why {@code c} is not ready although it is served. */
    static String notReadyReason(LoadedClassifier c) {
        return "all " + c.bulkhead().limits().maxConcurrentPredictions() + " prediction slot(s) are held by predictions that overran "
                + c.bulkhead().limits().timeoutMs() + " ms and have not returned";
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

        /**
         * Holds the version of the path's classifier that answers this request (the pinned one, else
         * the default or the canary); the access log lets go of it.
         */
        void resolve(RoutingContext ctx) {
            String name = ctx.pathParam(Route.CLASSIFIER);
            String version = ctx.pathParam(VERSION);
            LoadedClassifier classifier = (version == null
                    ? services.traffic().enter(name, ctx.request()::getHeader)
                    : registry.enter(name, version)).orElse(null);
            if (classifier == null) {
                ctx.fail(version == null || registry.versions(name).isEmpty() ? unknown(name)
                        : new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, "no version '" + clip(version) + "' of "
                                + name + " is loaded; loaded: " + registry.versions(name).map(v -> v.all().stream()
                                        .map(c -> c.info().version()).toList().toString()).orElse("none")));
                return;
            }
            ctx.response().putHeader(VERSION_HEADER, classifier.info().version());
            Exchange.of(ctx).classifier = classifier;
            ctx.next();
        }

        void predict(RoutingContext ctx, boolean probabilities, boolean pinned) {
            long start = System.nanoTime();
            Exchange exchange = Exchange.of(ctx);
            LoadedClassifier classifier = exchange.classifier;
            // counted for the console by the exchange's own end handler: no second one per request
            exchange.prediction = true;
            if (services.refusing()) {
                ctx.fail(new GatewayException(ErrorCode.DRAINING, "the gateway is shutting down", 1, null));
                return;
            }
            List<JsonNode> instances = RequestBody.instances(ctx.body().buffer(), classifier.info().limits().maxBatch());
            Predictions.answer(classifier, instances, services.metrics()).onComplete(result -> {
                if (result.failed()) {
                    ctx.fail(result.cause());
                    return;
                }
                Predictions.Answer answer = result.result();
                exchange.cached = answer.cached();
                double timeMs = (System.nanoTime() - start) / 1e6;
                Responses.send(ctx.response(), 200, Responses.predictions(answer.predictions(), probabilities,
                        classifier.metadataJson(), timeMs, answer.cached()));
                if (!pinned) {
                    services.shadows().answered(classifier, instances, answer.predictions());
                }
            });
        }

        void describe(RoutingContext ctx) {
            LoadedClassifier classifier = Exchange.of(ctx).classifier;
            Responses.send(ctx.response(), 200, Responses.json(description(classifier,
                    services.traffic().role(classifier), table.pathsOf(classifier.info().name()), true)));
        }

        void ready(RoutingContext ctx) {
            LoadedClassifier classifier = Exchange.of(ctx).classifier;
            if (services.draining()) {
                ctx.fail(new GatewayException(ErrorCode.DRAINING, "the gateway is shutting down", 1, null));
                return;
            }
            if (classifier.bulkhead().stuck()) {
                ctx.fail(new GatewayException(ErrorCode.CLASSIFIER_NOT_READY, notReadyReason(classifier), 1, null));
                return;
            }
            Responses.send(ctx.response(), 200, Responses.json(Json.MAPPER.createObjectNode().put("status", "ready")
                    .put("classifier", classifier.info().name()).put("version", classifier.info().version())));
        }
    }
}
