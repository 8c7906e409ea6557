package dev.mlserver.gateway.plugin;

import java.util.Optional;

/**
 * A plugin jar that cannot be served; the message is the reason shown in /classifiers, and the
 * classifier and version are named there too when the jar's manifest could be read.
 */
public class PluginLoadException extends RuntimeException {
    private final PluginManifest manifest;

    public PluginLoadException(String message) {
        this(message, null, null);
    }

    public PluginLoadException(String message, Throwable cause) {
        this(message, cause, null);
    }

    private PluginLoadException(String message, Throwable cause, PluginManifest manifest) {
        super(message, cause);
        this.manifest = manifest;
    }

    /** The manifest of the jar that failed, when it could be read. */
    public Optional<PluginManifest> manifest() {
        return Optional.ofNullable(manifest);
    }

    /** The same failure, naming the jar's classifier and version. */
    PluginLoadException of(Optional<PluginManifest> manifest) {
        if (this.manifest != null || manifest.isEmpty()) {
            return this;
        }
        PluginLoadException named = new PluginLoadException(getMessage(), getCause(), manifest.get());
        named.setStackTrace(getStackTrace());
        return named;
    }
}
