package dev.mlserver.gateway.v2;

import dev.mlserver.api.Prediction;
import java.util.List;

/** A prediction's values in the order of the model's output tensors. */
final class Outputs {
    private Outputs() {}

    /** The probabilities of {@code p} in the order of the model's labels (0 for a label it does not have). */
    static float[] probabilities(Model model, Prediction p) {
        List<String> labels = model.signature().labels();
        if (labels.equals(p.labels())) {
            return p.probabilities();
        }
        float[] out = new float[labels.size()];
        for (int i = 0; i < out.length; i++) {
            int at = p.labels().indexOf(labels.get(i));
            out[i] = at < 0 ? 0 : p.probabilities()[at];
        }
        return out;
    }
}
