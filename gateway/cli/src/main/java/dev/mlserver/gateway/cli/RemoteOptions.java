package dev.mlserver.gateway.cli;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** Where the running gateway is, for the commands that talk to one. */
final class RemoteOptions {
    static final String DEFAULT_URL = "http://127.0.0.1:8000";

    @Option(names = "--url", paramLabel = "URL", defaultValue = "${env:MLSERVER_URL:-" + DEFAULT_URL + "}",
            description = "the gateway (default: $MLSERVER_URL or ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:MLSERVER_TOKEN}",
            description = "bearer token, where the gateway wants one (default: $MLSERVER_TOKEN)")
    String token;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "give up on an answer after this long (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /** The client; a bad --url or --timeout is a usage error (exit 2). */
    GatewayClient client(CommandSpec spec) {
        if (timeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout must be at least 1 second");
        }
        try {
            return new GatewayClient(url, token, Duration.ofSeconds(timeoutSeconds));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
