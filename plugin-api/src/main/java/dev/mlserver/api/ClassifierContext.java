package dev.mlserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.slf4j.Logger;

/** What the gateway hands a classifier at {@link Classifier#open}: its identity and its artifacts. */
public interface ClassifierContext {

    /** The classifier's name, which is also its route and its plugin id. */
    String name();

    /** The classifier's version, from the plugin manifest. */
    String version();

    /** The plugin's {@code mlserver.yaml}, as a tree; an empty object when it has none. */
    JsonNode config();

    /**
     * The bytes of {@code artifacts/<name>} in the plugin jar, decrypted when it was stored
     * encrypted.
     *
     * @throws ClassifierException when the artifact is missing or cannot be decrypted
     */
    byte[] artifact(String name);

    /** Whether {@code artifacts/<name>} exists in the plugin jar (encrypted or not). */
    boolean hasArtifact(String name);

    /** ONNX Runtime intra-op threads the gateway budgets for one prediction of this classifier. */
    int intraOpThreads();

    /** A logger named for this classifier. */
    Logger logger();
}
