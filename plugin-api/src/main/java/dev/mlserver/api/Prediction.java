package dev.mlserver.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The answer for one instance: the predicted label and every label's probability.
 *
 * @param label the most probable label
 * @param probabilities probability per label, in the classifier's label order
 */
public record Prediction(String label, Map<String, Double> probabilities) {
    public Prediction {
        Objects.requireNonNull(label, "label");
        probabilities = Collections.unmodifiableMap(new LinkedHashMap<>(probabilities));
    }

    /** One prediction per row of probabilities, each row in the order of {@code labels}. */
    public static List<Prediction> all(List<String> labels, float[][] rows) {
        List<Prediction> out = new java.util.ArrayList<>(rows.length);
        for (float[] row : rows) {
            out.add(of(labels, row));
        }
        return out;
    }

    /** The prediction for {@code probabilities} given in the order of {@code labels}. */
    public static Prediction of(List<String> labels, float[] probabilities) {
        if (labels.size() != probabilities.length) {
            throw new ClassifierException(
                    "model gives " + probabilities.length + " probabilities for " + labels.size() + " labels");
        }
        Map<String, Double> byLabel = new LinkedHashMap<>();
        int best = 0;
        for (int i = 0; i < probabilities.length; i++) {
            byLabel.put(labels.get(i), (double) probabilities[i]);
            if (probabilities[i] > probabilities[best]) {
                best = i;
            }
        }
        return new Prediction(labels.get(best), byLabel);
    }
}
