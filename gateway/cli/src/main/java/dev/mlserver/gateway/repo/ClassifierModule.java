package dev.mlserver.gateway.repo;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A classifier's source module: a directory with a {@code pom.xml} and an {@code mlserver.yaml}.
 * Its name is the pom's artifactId (the plugin id); its version is the pom's own {@code <version>}.
 *
 * @param relativeDir the module directory relative to the repository root, with {@code /}
 */
public record ClassifierModule(String name, Path dir, String relativeDir, PomFile pom) {
    public Path mlserverYaml() {
        return dir.resolve("mlserver.yaml");
    }

    public Path artifacts() {
        return dir.resolve("artifacts");
    }

    /** The version Maven builds the module at. */
    public Optional<String> version() {
        return pom.version();
    }

    /** The repository-relative path of a file of this module, for messages and git. */
    public String relative(String file) {
        return relativeDir.isEmpty() ? file : relativeDir + "/" + file;
    }
}
