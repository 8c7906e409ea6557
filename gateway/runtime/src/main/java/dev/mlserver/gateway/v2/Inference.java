package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.http.Predictions;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The Open Inference Protocol's operations, the same for REST and gRPC: health, metadata and
 * inference, answered from the classifier registry. Inference goes through the same prediction
 * path as the native routes (cache, bulkhead, timeout); failures are {@link GatewayException}s,
 * each wire maps them in one place.
 */
public final class Inference {
    /** What {@code GET /v2} and ServerMetadata call the server. */
    static final String SERVER_NAME = "mlserver";

    private final ClassifierRegistry registry;
    private final GatewayMetrics metrics;
    private final String serverVersion;
    private final BooleanSupplier draining;
    private final BooleanSupplier refusing;
    private final Cache<LoadedClassifier, Model> models = Caffeine.newBuilder().weakKeys().build();

    private Inference(ClassifierRegistry registry, GatewayMetrics metrics, String serverVersion, BooleanSupplier draining,
                      BooleanSupplier refusing) {
        this.registry = registry;
        this.metrics = metrics;
        this.serverVersion = serverVersion;
        this.draining = draining;
        this.refusing = refusing;
    }

    /** A REST infer request of the protocol for one instance of {@code info}'s classifier, {@code example}. */
    public static JsonNode exampleRequest(ClassifierInfo info, JsonNode example) {
        return Signature.of(info).request(example);
    }

    /**
     * {@link #exampleRequest}'s gRPC forms, as encoded {@code ModelInferRequest}s for {@code info}'s
     * classifier: the tensor in typed contents, and in {@code raw_input_contents}, as clients send
     * either.
     */
    public static List<byte[]> exampleMessages(ClassifierInfo info, JsonNode example) {
        JsonNode request = exampleRequest(info, example);
        return List.of(GrpcCodec.message(info.name(), request, false).toByteArray(),
                GrpcCodec.message(info.name(), request, true).toByteArray());
    }

    /**
     * @param draining readiness is false (shutdown has begun)
     * @param refusing inference answers draining (the grace period is over)
     */
    public static Inference create(ClassifierRegistry registry, GatewayMetrics metrics, String serverVersion,
                                   BooleanSupplier draining, BooleanSupplier refusing) {
        return new Inference(registry, metrics, serverVersion, draining, refusing);
    }

    String serverName() {
        return SERVER_NAME;
    }

    String serverVersion() {
        return serverVersion;
    }

    /** Ready: the plugins present at start were loaded, at least one serves, and shutdown has not begun. */
    boolean serverReady() {
        return registry.initialLoadDone() && !draining.getAsBoolean() && !registry.serving().isEmpty();
    }

    boolean draining() {
        return draining.getAsBoolean();
    }

    /**
     * A loaded version of {@code name}, counted as used until {@link LoadedClassifier#leave}:
     * {@code version}, or for {@code version} empty or null the default version (the one the
     * native unpinned routes serve when no canary is set).
     *
     * @throws GatewayException 404 when no such model or version is loaded
     */
    LoadedClassifier enter(String name, String version) {
        String model = name == null ? "" : name;
        boolean pinned = version != null && !version.isEmpty();
        Optional<LoadedClassifier> found = pinned ? registry.enter(model, version) : registry.enter(model);
        if (found.isPresent()) {
            return found.get();
        }
        if (pinned && registry.versions(model).isPresent()) {
            throw new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, "model '" + clip(model) + "' has no version '"
                    + clip(version) + "'; loaded: " + loaded(model));
        }
        throw new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, "no model named '" + clip(model) + "'");
    }

    private List<String> loaded(String name) {
        return registry.versions(name).map(v -> v.all().stream().map(c -> c.info().version()).toList()).orElse(List.of());
    }

    Model model(LoadedClassifier classifier) {
        return models.get(classifier, c -> Model.of(c.info()));
    }

    /** Every loaded version of {@code classifier}'s name: each may be asked for by URL or {@code model_version}. */
    List<String> versions(LoadedClassifier classifier) {
        List<String> versions = loaded(classifier.info().name());
        return versions.isEmpty() ? List.of(classifier.info().version()) : versions;
    }

    /** Runs {@code request} on {@code classifier} (entered by the caller); fails with a {@link GatewayException}. */
    Future<InferResult> infer(LoadedClassifier classifier, InferRequest request) {
        if (refusing.getAsBoolean()) {
            return Future.failedFuture(new GatewayException(ErrorCode.DRAINING, "the gateway is shutting down", 1, null));
        }
        Model model = model(classifier);
        List<JsonNode> instances;
        List<String> outputs;
        try {
            outputs = outputs(model, request.outputs());
            instances = model.signature().instances(request.inputs(), classifier.info().limits().maxBatch());
        } catch (GatewayException e) {
            return Future.failedFuture(e);
        }
        return Predictions.answer(classifier, instances, metrics)
                .map(answer -> new InferResult(model, request.id(), answer.predictions(), outputs, answer.cached()));
    }

    private static List<String> outputs(Model model, List<String> requested) {
        if (requested.isEmpty()) {
            return List.of(Signature.LABEL, Signature.PROBABILITIES);
        }
        List<String> out = new ArrayList<>(requested.size());
        for (String name : requested) {
            if (!model.signature().hasOutput(name)) {
                throw invalid("unknown output '" + clip(name) + "'; this model gives '" + Signature.LABEL + "' and '"
                        + Signature.PROBABILITIES + "'");
            }
            if (!out.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    static GatewayException invalid(String message) {
        return new GatewayException(ErrorCode.INVALID_INPUT, message);
    }
}
