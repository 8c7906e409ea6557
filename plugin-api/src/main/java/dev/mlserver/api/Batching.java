package dev.mlserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * A text classifier's {@code batching:} setting in {@code mlserver.yaml}, and the check that must
 * pass before it is used.
 *
 * <p>Text runs one text per model call: a padded batch changes what a quantized encoder answers
 * (the example family's MiniLM flips 1.7-2.8 % of sentiment answers batched), and batching it
 * gained at most 1.17x. A classifier that honours this setting runs up to {@link #maxTexts} texts
 * in one model call only after {@link #check} has shown, on the card's {@link #examples}, that its
 * batched answers equal its one-at-a-time answers: the same labels, and every probability within
 * {@link #TOLERANCE}. Otherwise the classifier refuses to open and the gateway serves the others.
 * <pre>
 * batching:
 *   max_texts: 8          # texts in one model call
 *   examples:             # instances the check runs batched and one at a time; at least 2
 *     - "The battery died after two days."
 *     - {text: "Great food, friendly staff, and the best coffee in town."}
 * </pre>
 *
 * @param maxTexts the most texts in one model call; 1 runs one text per call
 * @param examples the instances the check compares on; empty when {@code maxTexts} is 1
 */
public record Batching(int maxTexts, List<JsonNode> examples) {
    /** The key in {@code mlserver.yaml}. */
    public static final String KEY = "batching";
    /** The largest difference of one probability that still counts as the same answer. */
    public static final float TOLERANCE = 1e-5f;
    /** The fewest examples a check runs on. */
    public static final int MIN_EXAMPLES = 2;
    private static final int MAX_TEXTS_LIMIT = 1024;
    private static final Batching OFF = new Batching(1, List.of());

    public Batching {
        if (maxTexts < 1 || maxTexts > MAX_TEXTS_LIMIT) {
            throw new ClassifierException(KEY + ": max_texts must be a whole number from 1 to " + MAX_TEXTS_LIMIT
                    + ", got " + maxTexts);
        }
        examples = List.copyOf(examples);
        if (maxTexts > 1 && examples.size() < MIN_EXAMPLES) {
            throw new ClassifierException(KEY + ": needs at least " + MIN_EXAMPLES
                    + " examples to show batched answers equal one-at-a-time answers, got " + examples.size());
        }
    }

    /** One text per model call. */
    public static Batching off() {
        return OFF;
    }

    /**
     * The {@code batching:} section of a card; {@link #off()} when it is absent, null or
     * {@code false}.
     *
     * @throws ClassifierException naming the key when the section has the wrong shape
     */
    public static Batching read(JsonNode card) {
        JsonNode node = card.path(KEY);
        if (node.isMissingNode() || node.isNull() || (node.isBoolean() && !node.booleanValue())) {
            return OFF;
        }
        if (!node.isObject()) {
            throw new ClassifierException(KEY + ": must be a section with max_texts and examples, got " + node);
        }
        node.fieldNames().forEachRemaining(key -> {
            if (!key.equals("max_texts") && !key.equals("examples")) {
                throw new ClassifierException(KEY + ": unknown key '" + key + "' (known: max_texts, examples)");
            }
        });
        JsonNode max = node.path("max_texts");
        if (!max.isIntegralNumber() || !max.canConvertToInt()) {
            throw new ClassifierException(KEY + ": max_texts must be a whole number of texts, got " + max);
        }
        JsonNode examples = node.path("examples");
        if (!examples.isMissingNode() && !examples.isArray()) {
            throw new ClassifierException(KEY + ": examples must be a list of instances, got " + examples);
        }
        List<JsonNode> list = new ArrayList<>();
        examples.forEach(list::add);
        return new Batching(max.intValue(), list);
    }

    /** Whether several texts may share one model call. */
    public boolean enabled() {
        return maxTexts > 1;
    }

    /** {@code items} cut, in order, into runs of at most {@link #maxTexts}. */
    public <T> List<List<T>> chunks(List<T> items) {
        List<List<T>> out = new ArrayList<>((items.size() + maxTexts - 1) / maxTexts);
        for (int from = 0; from < items.size(); from += maxTexts) {
            out.add(items.subList(from, Math.min(items.size(), from + maxTexts)));
        }
        return out;
    }

    /**
     * Runs {@link #examples} through {@code predict} batched (in the order given, then reversed,
     * so that each example meets different neighbours and padding) and one at a time, and
     * compares. Does nothing when batching is off.
     *
     * @param predict the classifier's predict with this batching in force
     * @throws ClassifierException with a one-line reason when any answer differs
     */
    public void check(Function<List<JsonNode>, List<Prediction>> predict) {
        if (!enabled()) {
            return;
        }
        List<Prediction> alone = new ArrayList<>(examples.size());
        for (JsonNode example : examples) {
            alone.add(single(predict.apply(List.of(example))));
        }
        List<JsonNode> reversed = new ArrayList<>(examples);
        Collections.reverse(reversed);
        List<Prediction> forward = predict.apply(examples);
        List<Prediction> backward = new ArrayList<>(predict.apply(reversed));
        Collections.reverse(backward);
        Difference difference = new Difference();
        for (int i = 0; i < examples.size(); i++) {
            difference.add(i, alone.get(i), answer(forward, i), answer(backward, i));
        }
        if (difference.examples > 0) {
            throw new ClassifierException(KEY + ": refused, batched answers differ from one-at-a-time answers on "
                    + difference.examples + " of " + examples.size() + " examples (" + difference.labels
                    + " with another label, largest probability difference " + difference.largest + ", first at example "
                    + difference.first + "); remove '" + KEY + ":' to run one text per call");
        }
    }

    private Prediction answer(List<Prediction> batch, int index) {
        if (batch.size() != examples.size()) {
            throw new ClassifierException(KEY + ": refused, a batch of " + examples.size() + " examples gave "
                    + batch.size() + " answers");
        }
        return batch.get(index);
    }

    private static Prediction single(List<Prediction> answers) {
        if (answers.size() != 1) {
            throw new ClassifierException(KEY + ": refused, one example gave " + answers.size() + " answers");
        }
        return answers.get(0);
    }

    /** Differences between one-at-a-time and batched answers, counted per example. */
    private static final class Difference {
        private int examples;
        private int labels;
        private float largest;
        private int first = -1;

        void add(int index, Prediction alone, Prediction... batched) {
            boolean differs = false;
            boolean label = false;
            for (Prediction other : batched) {
                label |= !other.label().equals(alone.label()) || !other.labels().equals(alone.labels());
                differs |= label;
                for (int i = 0; i < Math.min(alone.size(), other.size()); i++) {
                    float gap = Math.abs(alone.probability(i) - other.probability(i));
                    largest = Math.max(largest, gap);
                    differs |= !(gap <= TOLERANCE);
                }
            }
            labels += label ? 1 : 0;
            if (differs) {
                examples++;
                first = first < 0 ? index : first;
            }
        }
    }
}
