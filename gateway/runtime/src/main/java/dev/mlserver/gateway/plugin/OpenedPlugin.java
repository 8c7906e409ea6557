package dev.mlserver.gateway.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.gateway.cache.PredictionCache;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A classifier plugin opened and warmed by the {@link PluginLoader}: its classifier, its class
 * loader and what its responses say about it. It holds no threads: the serving side gives it a
 * bulkhead and a cache, a tool just closes it. Closing frees the native session, unloads the
 * plugin and deletes its private copy of the jar; a second close does nothing.
 */
public final class OpenedPlugin implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenedPlugin.class);

    private final ClassifierInfo info;
    private final Classifier classifier;
    private final SingleJarPluginManager plugins;
    private final String pluginId;
    private final byte[] metadataJson;
    private final ObjectNode metadata;
    private final PredictionCache.Settings cache;
    private final Runnable releaseCopy;
    private final AtomicBoolean closed = new AtomicBoolean();

    OpenedPlugin(ClassifierInfo info, Classifier classifier, SingleJarPluginManager plugins, String pluginId,
                 byte[] metadataJson, PredictionCache.Settings cache, Runnable releaseCopy) {
        this.info = info;
        this.classifier = classifier;
        this.plugins = plugins;
        this.pluginId = pluginId;
        this.metadataJson = metadataJson;
        this.metadata = info.metadata();
        this.cache = cache;
        this.releaseCopy = releaseCopy;
    }

    public ClassifierInfo info() {
        return info;
    }

    public Classifier classifier() {
        return classifier;
    }

    /** The response metadata block, serialised once. */
    public byte[] metadataJson() {
        return metadataJson;
    }

    /** The response metadata block as a tree; do not modify. */
    public ObjectNode metadata() {
        return metadata;
    }

    /** The prediction cache its {@code mlserver.yaml} asks for, if any. */
    public Optional<PredictionCache.Settings> cache() {
        return Optional.ofNullable(cache);
    }

    /** The class loader of its plugin; the gateway's for a model-only plugin, served by the generic classifier. */
    public ClassLoader classLoader() {
        return classifier.getClass().getClassLoader();
    }

    /** Closes the classifier under its own class loader, unloads the plugin and deletes the jar copy. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        try {
            Thread.currentThread().setContextClassLoader(classLoader());
            classifier.close();
        } catch (RuntimeException e) {
            LOG.warn("{} {}: close failed: {}", info.name(), info.version(), e.toString());
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
        try {
            if (plugins != null) {
                plugins.unloadPlugin(pluginId);
            }
        } catch (RuntimeException e) {
            LOG.warn("{} {}: unload failed: {}", info.name(), info.version(), e.toString());
        }
        releaseCopy.run();
    }
}
