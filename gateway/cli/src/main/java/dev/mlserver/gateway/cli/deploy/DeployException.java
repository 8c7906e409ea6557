package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.repo.ToolException;

/** A build, push or manifest step that cannot go on; its message is shown to the user as is. */
public class DeployException extends ToolException {
    public DeployException(String message) {
        super(message);
    }

    public DeployException(String message, Throwable cause) {
        super(message, cause);
    }
}
