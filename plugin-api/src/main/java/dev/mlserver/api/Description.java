package dev.mlserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/**
 * What a classifier tells the gateway about itself once open.
 *
 * @param labels the classes it predicts, in the order of its probabilities
 * @param inputSchema a JSON Schema of one instance
 * @param example one instance that {@link Classifier#predict} accepts; the gateway warms the
 *     classifier with it and advertises it
 */
public record Description(List<String> labels, JsonNode inputSchema, JsonNode example) {
    public Description {
        labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
        Objects.requireNonNull(inputSchema, "inputSchema");
        Objects.requireNonNull(example, "example");
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("a classifier needs at least one label");
        }
    }
}
