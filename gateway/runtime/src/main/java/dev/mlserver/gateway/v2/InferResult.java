package dev.mlserver.gateway.v2;

import dev.mlserver.api.Prediction;
import java.util.List;

/**
 * The answer to an inference request.
 *
 * @param model the model that answered
 * @param id the request's identifier, or null
 * @param predictions one per instance
 * @param outputs the output names to send, in order
 * @param cached whether the cache gave every prediction
 */
record InferResult(Model model, String id, List<Prediction> predictions, List<String> outputs, boolean cached) {
    InferResult {
        predictions = List.copyOf(predictions);
        outputs = List.copyOf(outputs);
    }
}
