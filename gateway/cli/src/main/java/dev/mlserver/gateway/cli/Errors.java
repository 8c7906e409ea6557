package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.plugin.PluginLoadException;
import dev.mlserver.gateway.repo.ToolException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * The one place a failed command becomes what the user sees: one line on stderr,
 * {@code ml_server: <message>}, and exit code 1. Usage mistakes are picocli's (exit code 2).
 */
final class Errors implements IExecutionExceptionHandler {
    static final int OK = 0;
    static final int PROBLEM = 1;
    static final int USAGE = 2;
    static final String PREFIX = "ml_server: ";

    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, ParseResult parseResult) {
        commandLine.getErr().println(PREFIX + message(e));
        commandLine.getErr().flush();
        return PROBLEM;
    }

    /** The user's message for {@code e}: the tooling's and the runtime's own say what to do; anything else is a bug. */
    static String message(Throwable e) {
        if (e instanceof ToolException || e instanceof ConfigException || e instanceof PluginLoadException
                || e instanceof GatewayException) {
            return oneLine(e.getMessage());
        }
        if (e instanceof UncheckedIOException io) {
            return oneLine(io.getCause().getMessage());
        }
        return oneLine(e + " (unexpected: please report it with the command that gave it)");
    }

    private static String oneLine(String message) {
        return message == null ? "failed" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
