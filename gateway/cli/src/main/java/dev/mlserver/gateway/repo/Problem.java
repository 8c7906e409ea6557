package dev.mlserver.gateway.repo;

import java.util.Objects;

/**
 * One thing {@code validate} found wrong.
 *
 * @param file the file it is in, as the user can find it
 * @param key the key, manifest attribute or element in that file; empty for the file as a whole
 */
public record Problem(Severity severity, String file, String key, String message) {
    public enum Severity { ERROR, WARNING }

    public Problem {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(file, "file");
        key = key == null ? "" : key;
        Objects.requireNonNull(message, "message");
    }

    public static Problem error(String file, String key, String message) {
        return new Problem(Severity.ERROR, file, key, message);
    }

    public static Problem warning(String file, String key, String message) {
        return new Problem(Severity.WARNING, file, key, message);
    }

    @Override
    public String toString() {
        return (severity == Severity.WARNING ? "warning: " : "") + file + (key.isEmpty() ? "" : ": " + key) + ": " + message;
    }
}
