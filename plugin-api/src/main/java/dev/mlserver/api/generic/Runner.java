package dev.mlserver.api.generic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Prediction;
import java.util.List;

/** Runs a planned model: instances in, predictions out. Thread-safe. */
interface Runner extends AutoCloseable {
    List<Prediction> predict(List<JsonNode> instances);

    /** A JSON Schema of one instance. */
    JsonNode schema();

    /** An instance the model accepts, built from its signature alone. */
    JsonNode example();

    @Override
    void close();
}
