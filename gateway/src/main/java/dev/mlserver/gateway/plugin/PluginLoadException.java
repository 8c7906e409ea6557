package dev.mlserver.gateway.plugin;

/** A plugin jar that cannot be served; the message is the reason shown in /classifiers. */
public class PluginLoadException extends RuntimeException {
    public PluginLoadException(String message) {
        super(message);
    }

    public PluginLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
