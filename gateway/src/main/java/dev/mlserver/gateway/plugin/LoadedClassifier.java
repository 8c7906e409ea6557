package dev.mlserver.gateway.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.gateway.bulkhead.Bulkhead;
import dev.mlserver.gateway.cache.PredictionCache;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One classifier version that is open and warmed: its plugin, its bulkhead, and the metadata its
 * responses carry. Closing it waits for its running predictions, then frees the native session,
 * the plugin and its class loader.
 */
public final class LoadedClassifier {
    private static final Logger LOG = LoggerFactory.getLogger(LoadedClassifier.class);

    private final ClassifierInfo info;
    private final Classifier classifier;
    private final Bulkhead bulkhead;
    private final SingleJarPluginManager plugins;
    private final String pluginId;
    private final byte[] metadataJson;
    private final ObjectNode metadata;
    private final PredictionCache cache;

    LoadedClassifier(ClassifierInfo info, Classifier classifier, Bulkhead bulkhead,
                     SingleJarPluginManager plugins, String pluginId, byte[] metadataJson, PredictionCache cache) {
        this.cache = cache;
        this.info = info;
        this.classifier = classifier;
        this.bulkhead = bulkhead;
        this.plugins = plugins;
        this.pluginId = pluginId;
        this.metadataJson = metadataJson;
        this.metadata = info.metadata();
    }

    public ClassifierInfo info() {
        return info;
    }

    public Classifier classifier() {
        return classifier;
    }

    public Bulkhead bulkhead() {
        return bulkhead;
    }

    /** This version's prediction cache, when its mlserver.yaml turns one on. */
    public Optional<PredictionCache> cache() {
        return Optional.ofNullable(cache);
    }

    /** The response metadata block, serialised once. */
    public byte[] metadataJson() {
        return metadataJson;
    }

    /** The response metadata block as a tree; do not modify. */
    public ObjectNode metadata() {
        return metadata;
    }

    /**
     * Stops taking work, waits up to {@code drainMillis} for running predictions, then closes the
     * classifier and unloads its plugin. Blocking: call it off the event loop.
     */
    public void close(long drainMillis) {
        bulkhead.close();
        try {
            if (!bulkhead.awaitTermination(drainMillis)) {
                LOG.warn("{} {}: predictions still running after {} ms; closing anyway", info.name(), info.version(), drainMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            classifier.close();
        } catch (RuntimeException e) {
            LOG.warn("{} {}: close failed: {}", info.name(), info.version(), e.toString());
        }
        plugins.unloadPlugin(pluginId);
    }
}
