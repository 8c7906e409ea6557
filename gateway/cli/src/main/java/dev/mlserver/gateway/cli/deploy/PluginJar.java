package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.plugin.PluginLoadException;
import dev.mlserver.gateway.plugin.PluginManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A built classifier plugin jar and what its manifest says.
 *
 * @param commitFull the full commit id stamped at build time, when there is one
 */
public record PluginJar(Path path, PluginManifest manifest, Optional<String> commitFull, String sha256) {

    public static PluginJar read(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new DeployException("no plugin jar at " + path);
        }
        try (JarFile jar = new JarFile(path.toFile())) {
            Manifest mf = jar.getManifest();
            if (mf == null) {
                throw new DeployException(path + " has no manifest: not a classifier plugin jar");
            }
            PluginManifest manifest = PluginManifest.read(mf);
            if (!PluginManifest.NAME.matcher(manifest.id()).matches()) {
                throw new DeployException(path + ": Plugin-Id '" + manifest.id() + "' is not a classifier name");
            }
            String full = mf.getMainAttributes().getValue("Git-Commit-Full");
            Optional<String> commitFull = Optional.ofNullable(full).map(String::trim)
                    .filter(s -> s.matches("[0-9a-f]{40}"));
            return new PluginJar(path.toAbsolutePath().normalize(), manifest, commitFull, Digests.sha256(path));
        } catch (PluginLoadException e) {
            throw new DeployException(path + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new DeployException("cannot read plugin jar " + path + ": " + e.getMessage(), e);
        }
    }

    public String name() {
        return manifest.id();
    }

    public String version() {
        return manifest.version();
    }

    /** The commit the jar was built from: the full id when stamped, else the short one. */
    public Optional<String> commit() {
        return commitFull.or(() -> Optional.ofNullable(manifest.gitCommit()));
    }
}
