package dev.mlserver.gateway.plugin;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * What a plugin jar's manifest says about the build that made it.
 *
 * @param gitTag the classifier's hierarchical tag at the commit, when the build was tagged
 */
public record PluginManifest(
        String id, String version, String provider, String requires, String description,
        String gitCommit, String gitTag, String repository, String buildTime, boolean dirty) {

    /** Classifier names: lowercase letters, digits and dashes, up to 64 characters. */
    public static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9-]{0,63}$");

    public static PluginManifest read(Manifest manifest) {
        Attributes a = manifest.getMainAttributes();
        String id = trimmed(a.getValue("Plugin-Id"));
        String version = trimmed(a.getValue("Plugin-Version"));
        if (id == null) {
            throw new PluginLoadException("the jar's manifest has no Plugin-Id");
        }
        if (version == null) {
            throw new PluginLoadException("the jar's manifest has no Plugin-Version");
        }
        String tag = trimmed(a.getValue("Git-Tag"));
        if (tag == null) {
            tag = classifierTag(id, version, splitTags(a.getValue("Git-Tags"))).orElse(null);
        }
        return new PluginManifest(id, version, trimmed(a.getValue("Plugin-Provider")),
                trimmed(a.getValue("Plugin-Requires")), trimmed(a.getValue("Plugin-Description")),
                trimmed(a.getValue("Git-Commit")), tag, trimmed(a.getValue("Git-Repository")),
                trimmed(a.getValue("Build-Time")), "true".equals(trimmed(a.getValue("Git-Dirty"))));
    }

    /** The manifest of {@code jar} when it is a readable plugin jar; empty otherwise. */
    public static Optional<PluginManifest> peek(java.nio.file.Path jar) {
        try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
            return file.getManifest() == null ? Optional.empty() : Optional.of(read(file.getManifest()));
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The tag among {@code tags} that names this classifier at this version, in any of the
     * hierarchical formats: {@code <name>-v<version>}, {@code classifiers/<name>/v<version>},
     * {@code <name>/v<version>}.
     */
    public static Optional<String> classifierTag(String name, String version, List<String> tags) {
        List<String> wanted = List.of(name + "-v" + version, "classifiers/" + name + "/v" + version, name + "/v" + version);
        return wanted.stream().filter(tags::contains).findFirst();
    }

    private static List<String> splitTags(String tags) {
        if (tags == null || tags.isBlank()) {
            return List.of();
        }
        return Arrays.stream(tags.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static String trimmed(String value) {
        if (value == null) {
            return null;
        }
        String t = value.trim();
        // an unresolved Maven property is no value
        return t.isEmpty() || t.startsWith("${") ? null : t;
    }
}
