package dev.mlserver.api.generic;

import dev.mlserver.api.ClassifierContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where a model's files are read from: a plugin jar's artifacts, or a directory. */
@FunctionalInterface
public interface ModelFiles {
    /** The bytes of file {@code name}, when there is one. */
    Optional<byte[]> read(String name);

    /** The artifacts of the plugin behind {@code context}. */
    static ModelFiles of(ClassifierContext context) {
        return name -> context.hasArtifact(name) ? Optional.of(context.artifact(name)) : Optional.empty();
    }

    /** The files of a directory; names that leave it are not files of it. */
    static ModelFiles of(Path dir) {
        Path root = dir.toAbsolutePath().normalize();
        return name -> {
            Path file = root.resolve(name).normalize();
            if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                return Optional.empty();
            }
            try {
                return Optional.of(Files.readAllBytes(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }
}
