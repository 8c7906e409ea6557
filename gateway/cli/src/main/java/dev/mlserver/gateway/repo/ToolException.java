package dev.mlserver.gateway.repo;

/**
 * The root of the tooling's exceptions: something the user asked for that cannot be done. Its
 * message is one line that says what is wrong and what to do; {@code ml_server} prints it as
 * {@code ml_server: <message>} and exits 1, in one place ({@code cli.Errors}).
 */
public class ToolException extends RuntimeException {
    public ToolException(String message) {
        super(message);
    }

    public ToolException(String message, Throwable cause) {
        super(message, cause);
    }
}
