package dev.mlserver.api.generic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Batching;
import dev.mlserver.api.ClassifierException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The keys of {@code mlserver.yaml} the generic classifier reads, with their defaults.
 *
 * @param model the ONNX model file
 * @param tokenizer the HuggingFace tokenizer.json of a text model
 * @param modelConfig the HuggingFace config.json of a text model ({@code id2label})
 * @param labels {@code labels:}, which wins over every label the model carries; empty when unset
 * @param featureNames {@code feature_names:}; empty when unset
 * @param output the output to read class probabilities (or logits) from; empty to find it
 * @param maxLength the most tokens a text model reads; 0 to take the tokenizer's
 * @param batching {@code batching:}, off when unset
 */
record Settings(String model, String tokenizer, String modelConfig, List<String> labels, List<String> featureNames,
                String output, int maxLength, Batching batching) {
    static final String DEFAULT_MODEL = "model.onnx";
    static final String DEFAULT_TOKENIZER = "tokenizer.json";
    static final String DEFAULT_MODEL_CONFIG = "config.json";

    Settings {
        labels = List.copyOf(labels);
        featureNames = List.copyOf(featureNames);
        Objects.requireNonNull(batching, "batching");
    }

    /** Reads the settings from a card, adding a problem for each key of the wrong shape. */
    static Settings read(JsonNode card, List<Problem> problems) {
        int maxLength = 0;
        JsonNode max = card.path("max_length");
        if (!max.isMissingNode()) {
            if (max.canConvertToInt() && max.isIntegralNumber() && max.intValue() >= 2) {
                maxLength = max.intValue();
            } else {
                problems.add(new Problem("max_length", "must be a whole number of tokens, at least 2; got " + max));
            }
        }
        return new Settings(text(card, "model", DEFAULT_MODEL, problems), text(card, "tokenizer", DEFAULT_TOKENIZER, problems),
                text(card, "model_config", DEFAULT_MODEL_CONFIG, problems), strings(card, "labels", problems),
                strings(card, "feature_names", problems), text(card, "output", "", problems), maxLength,
                batching(card, problems));
    }

    private static Batching batching(JsonNode card, List<Problem> problems) {
        try {
            return Batching.read(card);
        } catch (ClassifierException e) {
            problems.add(Problem.of(Batching.KEY, e.getMessage()));
            return Batching.off();
        }
    }

    private static String text(JsonNode card, String key, String fallback, List<Problem> problems) {
        JsonNode value = card.get(key);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual() || value.textValue().isBlank()) {
            problems.add(new Problem(key, "must be a file or output name, got " + value));
            return fallback;
        }
        return value.textValue();
    }

    private static List<String> strings(JsonNode card, String key, List<Problem> problems) {
        JsonNode value = card.get(key);
        if (value == null || value.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (value.isArray()) {
            for (JsonNode item : value) {
                if (item.isValueNode() && !item.isNull()) {
                    out.add(item.asText());
                }
            }
            if (out.size() == value.size() && !out.isEmpty() && out.stream().distinct().count() == out.size()) {
                return out;
            }
        }
        problems.add(new Problem(key, "must be a list of distinct names, got " + value));
        return List.of();
    }
}
