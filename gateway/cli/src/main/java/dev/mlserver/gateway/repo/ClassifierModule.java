package dev.mlserver.gateway.repo;

import dev.mlserver.gateway.plugin.PluginManifest;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A classifier's source module: a directory with a {@code pom.xml} and an {@code mlserver.yaml}.
 * Its name is the pom's artifactId (the plugin id); its version is the pom's {@code <version>},
 * the one place it is written.
 *
 * @param relativeDir the module directory relative to the repository root, with {@code /}
 * @param repository the family's name: the {@code mlserver.repository} property of the module's
 *     pom or a parent, else the repository directory's name
 */
public record ClassifierModule(String name, Path dir, String relativeDir, PomFile pom, String repository) {
    public ClassifierModule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(relativeDir, "relativeDir");
        Objects.requireNonNull(pom, "pom");
        Objects.requireNonNull(repository, "repository");
    }

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

    /**
     * The version a release of this module carries: a literal {@code <version>}, with a name that
     * can be a classifier's; else a message that says what to fix.
     */
    public String releaseVersion() {
        if (!PluginManifest.NAME.matcher(name).matches()) {
            throw new RepoException(relative("pom.xml") + ": the artifactId '" + name + "' is not a classifier name"
                    + " (lowercase letters, digits and dashes)");
        }
        return version().filter(v -> !v.isBlank() && !v.contains("${")).orElseThrow(() -> new RepoException(
                relative("pom.xml") + ": the module has no literal <version>"));
    }

    /** The jar {@code mvn package} leaves: {@code target/<artifactId>-<version>.jar}. */
    public Path builtJar() {
        return dir.resolve("target").resolve(name + "-" + releaseVersion() + ".jar");
    }

    /** The repository-relative path of a file of this module, for messages and git. */
    public String relative(String file) {
        return relativeDir.isEmpty() ? file : relativeDir + "/" + file;
    }
}
