package dev.mlserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * One classifier of a family, implemented by a plugin as a single {@code @Extension}.
 *
 * <p>The gateway calls {@link #open} once, {@link #describe} once after it, then {@link #predict}
 * from several worker threads at a time, and finally {@link #close}. The class knows nothing of
 * HTTP: the gateway turns its results and exceptions into responses.
 */
public interface Classifier extends ExtensionPoint {

    /**
     * Loads the classifier's artifacts. Called once, before any prediction.
     *
     * @throws ClassifierException when an artifact is missing or unusable; the gateway marks the
     *     classifier failed and keeps the reason
     */
    void open(ClassifierContext context);

    /** Labels, input schema and an example instance, as known once {@link #open} returned. */
    Description describe();

    /**
     * Classifies a batch of instances, each exactly as the client sent it. Synchronous and
     * thread-safe. Returns one prediction per instance, in order. The answer for an instance must
     * not depend on the others in the batch: a text classifier runs one text per model call
     * unless its {@link Batching} check has shown batched answers identical.
     *
     * @throws InvalidInputException when an instance does not fit the input schema
     */
    List<Prediction> predict(List<JsonNode> instances);

    /** Frees native memory. Called once, after the last prediction has returned. */
    void close();
}
