package dev.mlserver.gateway.cli.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/** The serving jar, {@code mlserver-runtime.jar}, that the build embeds in {@code ml_server.jar} for images. */
public final class RuntimeJar {
    static final String RESOURCE = "/runtime/mlserver-runtime.jar";

    private RuntimeJar() {}

    /** The embedded runtime jar copied to a temporary file, deleted at exit; empty when this build has none. */
    public static Optional<Path> extract() {
        try (InputStream in = RuntimeJar.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return Optional.empty();
            }
            Path dir = Files.createTempDirectory("mlserver-runtime-");
            Path jar = dir.resolve("mlserver-runtime.jar");
            Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
            jar.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return Optional.of(jar);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the embedded runtime jar", e);
        }
    }
}
