package dev.mlserver.gateway.repo;

/** A repository operation that cannot go ahead; the message says why and what to do. */
public class RepoException extends ToolException {
    public RepoException(String message) {
        super(message);
    }

    public RepoException(String message, Throwable cause) {
        super(message, cause);
    }
}
