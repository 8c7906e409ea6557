package dev.mlserver.api.generic;

import java.util.Objects;

/**
 * Something that keeps a model from being served as it is configured, or that had to be guessed.
 *
 * @param key the {@code mlserver.yaml} key (or artifact) to change
 * @param message what is wrong, naming the model's real inputs and outputs where they matter
 */
public record Problem(String key, String message) {
    public Problem {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(message, "message");
    }

    /** A problem of {@code key} from a message that may already start with {@code "key: "}. */
    static Problem of(String key, String message) {
        String prefix = key + ": ";
        return new Problem(key, message.startsWith(prefix) ? message.substring(prefix.length()) : message);
    }

    @Override
    public String toString() {
        return key + ": " + message;
    }
}
