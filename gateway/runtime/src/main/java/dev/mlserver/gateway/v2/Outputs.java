package dev.mlserver.gateway.v2;

import dev.mlserver.api.Prediction;
import java.util.List;

/** A prediction's values in the order of the model's output tensors. */
final class Outputs {
    private Outputs() {}

    /** The probabilities of {@code p} in the order of the model's labels (0 for a label it left out). */
    static double[] probabilities(Model model, Prediction p) {
        List<String> labels = model.signature().labels();
        double[] out = new double[labels.size()];
        for (int i = 0; i < out.length; i++) {
            Double v = p.probabilities().get(labels.get(i));
            out[i] = v == null ? 0 : v;
        }
        return out;
    }
}
