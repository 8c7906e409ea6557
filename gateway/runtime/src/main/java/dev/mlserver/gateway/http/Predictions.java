package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Prediction;
import dev.mlserver.gateway.cache.PredictionCache;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Gets the predictions for a request: from the classifier's cache where it has them, the rest
 * through its bulkhead. A request answered wholly from the cache never takes a bulkhead slot.
 */
final class Predictions {
    /** The predictions, one per instance, and whether every one came from the cache. */
    record Answer(List<Prediction> predictions, boolean cached) {}

    private Predictions() {}

    static Future<Answer> answer(LoadedClassifier classifier, List<JsonNode> instances, GatewayMetrics metrics) {
        Optional<PredictionCache> maybeCache = classifier.cache();
        if (maybeCache.isEmpty()) {
            return run(classifier, instances).map(p -> new Answer(p, false));
        }
        PredictionCache cache = maybeCache.get();
        int n = instances.size();
        Prediction[] found = new Prediction[n];
        String[] keys = new String[n];
        List<JsonNode> missing = new ArrayList<>();
        List<Integer> missingAt = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            keys[i] = cache.key(instances.get(i)).orElse(null);
            found[i] = keys[i] == null ? null : cache.get(keys[i]).orElse(null);
            if (found[i] == null) {
                missing.add(instances.get(i));
                missingAt.add(i);
            }
        }
        metrics.cacheLookups(classifier.info(), n - missing.size(), missing.size());
        if (missing.isEmpty()) {
            return Future.succeededFuture(new Answer(List.of(found), true));
        }
        return run(classifier, missing).map(computed -> {
            for (int j = 0; j < computed.size(); j++) {
                int i = missingAt.get(j);
                found[i] = computed.get(j);
                if (keys[i] != null) {
                    cache.put(keys[i], found[i]);
                }
            }
            return new Answer(List.of(found), false);
        });
    }

    private static Future<List<Prediction>> run(LoadedClassifier classifier, List<JsonNode> instances) {
        return classifier.bulkhead().submit(() -> {
            List<Prediction> predictions = classifier.classifier().predict(instances);
            if (predictions == null || predictions.size() != instances.size()
                    || predictions.stream().anyMatch(java.util.Objects::isNull)) {
                throw new IllegalStateException(classifier.info().name() + " returned "
                        + (predictions == null ? "null" : predictions.size() + " predictions")
                        + " for " + instances.size() + " instances");
            }
            return predictions;
        });
    }
}
