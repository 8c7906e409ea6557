package dev.mlserver.gateway.config;

/** A configuration that cannot be used; the message names the file and key. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
