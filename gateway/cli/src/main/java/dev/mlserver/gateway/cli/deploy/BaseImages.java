package dev.mlserver.gateway.cli.deploy;

import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;

/**
 * Checks a build's base image before Jib starts: a tarball must be an image, and a registry must
 * answer within seconds. Jib would otherwise retry an unreachable registry for a minute and end
 * with a message that does not say how to build without one.
 */
public final class BaseImages {
    public static final String TAR = "tar://";
    static final int CONNECT_TIMEOUT_MS = 3000;
    private static final String WAY_OUT = "build on a local base instead: --base-image tar://FILE,"
            + " made here with no registry by `ml_server base-image --output FILE`";

    private BaseImages() {}

    /** Fails with one line naming the way out when {@code baseImage} cannot be used from here. */
    public static void check(String baseImage) {
        if (baseImage.startsWith(TAR)) {
            ImageTarball.read(Path.of(baseImage.substring(TAR.length())));
            return;
        }
        if (baseImage.startsWith("docker://")) {
            return;
        }
        ImageReference reference;
        try {
            reference = ImageReference.parse(baseImage.replaceFirst("^registry://", ""));
        } catch (InvalidImageReferenceException e) {
            throw new DeployException("'" + baseImage + "' is not a base image reference: " + WAY_OUT, e);
        }
        String registry = reference.getRegistry();
        int colon = registry.lastIndexOf(':');
        String host = colon > 0 ? registry.substring(0, colon) : registry;
        int port = colon > 0 ? Integer.parseInt(registry.substring(colon + 1)) : 443;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
        } catch (IOException | IllegalArgumentException e) {
            throw new DeployException("cannot reach " + registry + " to pull the base image " + baseImage + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); " + WAY_OUT, e);
        }
    }
}
