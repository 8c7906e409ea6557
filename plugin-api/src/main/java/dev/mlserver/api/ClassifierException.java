package dev.mlserver.api;

/** The root of every exception a classifier throws. Its message must be safe to show a client. */
public class ClassifierException extends RuntimeException {
    public ClassifierException(String message) {
        super(message);
    }

    public ClassifierException(String message, Throwable cause) {
        super(message, cause);
    }
}
