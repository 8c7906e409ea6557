package dev.mlserver.api;

import dev.mlserver.api.onnx.Probabilities;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The answer for one instance: the predicted label and every label's probability, as the model
 * gave them (float32, unboxed), in the classifier's label order.
 *
 * @param label the predicted label, one of {@code labels}
 * @param labels every label, in the classifier's order
 * @param probabilities one probability per label, in the order of {@code labels}
 * @param truncated whether the model read only the beginning of the instance (a text longer than
 *     its maximum length); the response says {@code "truncated": true}
 */
public record Prediction(String label, List<String> labels, float[] probabilities, boolean truncated) {
    public Prediction {
        Objects.requireNonNull(label, "label");
        labels = List.copyOf(labels);
        probabilities = probabilities.clone();
        if (labels.size() != probabilities.length) {
            throw new ClassifierException(
                    "model gives " + probabilities.length + " probabilities for " + labels.size() + " labels");
        }
        if (!labels.contains(label)) {
            throw new ClassifierException("predicted label '" + label + "' is not one of " + labels);
        }
    }

    /** A prediction of an instance read whole. */
    public Prediction(String label, List<String> labels, float[] probabilities) {
        this(label, labels, probabilities, false);
    }

    /** This prediction, for an instance of which the model read only the beginning. */
    public Prediction asTruncated() {
        return new Prediction(label, labels, probabilities, true);
    }

    /** One prediction per row of probabilities, each row in the order of {@code labels}. */
    public static List<Prediction> all(List<String> labels, float[][] rows) {
        List<String> fixed = List.copyOf(labels);
        List<Prediction> out = new ArrayList<>(rows.length);
        for (float[] row : rows) {
            out.add(of(fixed, row));
        }
        return out;
    }

    /** The most probable label (the first on ties) for {@code probabilities} in the order of {@code labels}. */
    public static Prediction of(List<String> labels, float[] probabilities) {
        if (labels.size() != probabilities.length) {
            throw new ClassifierException(
                    "model gives " + probabilities.length + " probabilities for " + labels.size() + " labels");
        }
        return new Prediction(labels.get(Probabilities.argmax(probabilities)), labels, probabilities);
    }

    /** The probabilities, a copy in the order of {@link #labels}. */
    @Override
    public float[] probabilities() {
        return probabilities.clone();
    }

    /** The number of labels. */
    public int size() {
        return probabilities.length;
    }

    /** The probability of the label at {@code index} in {@link #labels}. */
    public float probability(int index) {
        return probabilities[index];
    }

    /** The probability of {@code label}; an {@link IllegalArgumentException} for a label the classifier has not. */
    public float probability(String label) {
        int index = labels.indexOf(label);
        if (index < 0) {
            throw new IllegalArgumentException("no label '" + label + "' in " + labels);
        }
        return probabilities[index];
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Prediction p && label.equals(p.label) && labels.equals(p.labels)
                && Arrays.equals(probabilities, p.probabilities) && truncated == p.truncated;
    }

    @Override
    public int hashCode() {
        return Objects.hash(label, labels, Arrays.hashCode(probabilities), truncated);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Prediction[").append(label).append(" {");
        for (int i = 0; i < probabilities.length; i++) {
            s.append(i == 0 ? "" : ", ").append(labels.get(i)).append('=').append(probabilities[i]);
        }
        return s.append(truncated ? "} truncated]" : "}]").toString();
    }
}
