package dev.mlserver.gateway.repo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.plugin.PluginManifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * {@code ml_server package}: a model-only directory as a plugin jar, with no Maven and no Java.
 * The jar holds {@code mlserver.yaml} and the files it names under {@code artifacts/}, and its
 * manifest carries the fields a Maven-built plugin's does (plugins/pom.xml): Plugin-Id,
 * Plugin-Version, Plugin-Provider, Plugin-Requires, Plugin-Description, Git-Commit,
 * Git-Commit-Full, Git-Tags, Git-Tag, Git-Dirty, Git-Repository, Build-Time.
 *
 * @param jar the jar written
 * @param manifest its manifest's main attributes, in order
 * @param artifacts the artifacts it holds
 */
public record ModelPackage(Path jar, Map<String, String> manifest, List<String> artifacts) {
    /** The provider written when mlserver.yaml names none, as plugins/pom.xml's default. */
    public static final String DEFAULT_PROVIDER = "mlserver";
    private static final List<String> ARTIFACT_KEYS = List.of("model", "tokenizer", "model_config");
    private static final Map<String, String> ARTIFACT_DEFAULTS = Map.of("model", "model.onnx",
            "tokenizer", "tokenizer.json", "model_config", "config.json");

    public ModelPackage {
        manifest = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(manifest));
        artifacts = List.copyOf(artifacts);
    }

    /**
     * Writes {@code dir}'s plugin jar to {@code output} (default {@code dir/target/NAME-VERSION.jar}).
     *
     * @throws RepoException when the card names no classifier or no version can be found
     */
    public static ModelPackage write(Path dir, Optional<Path> output, Set<String> reserved) {
        JsonNode card = ModelDir.card(dir);
        String name = card.path("name").asText("");
        List<Problem> problems = new ArrayList<>();
        ModelDir.check(dir, dir.toString(), reserved, problems::add);
        List<Problem> errors = problems.stream().filter(p -> p.severity() == Problem.Severity.ERROR).toList();
        if (!errors.isEmpty()) {
            throw new RepoException(errors.size() + " problem" + (errors.size() == 1 ? "" : "s") + " to fix first: "
                    + String.join("; ", errors.stream().map(Problem::toString).toList()));
        }
        Optional<GitRepo> git = GitRepo.find(dir.toAbsolutePath());
        try {
            String version = version(card, name, git);
            Map<String, String> attributes = new LinkedHashMap<>();
            attributes.put("Plugin-Id", name);
            attributes.put("Plugin-Version", version);
            attributes.put("Plugin-Provider", card.path("provider").asText(DEFAULT_PROVIDER));
            attributes.put("Plugin-Requires", ">=" + GatewayVersion.current());
            attributes.put("Plugin-Description", card.path("description").asText("").strip().replaceAll("\\s+", " "));
            git.ifPresent(g -> {
                boolean dirty = !g.uncommittedChanges().isEmpty();
                g.headCommit().ifPresent(c -> attributes.put("Git-Commit", dirty ? c + "-dirty" : c));
                // a tag names what was committed; a dirty tree is not that
                Set<String> tags = dirty ? Set.of() : g.tagsAtHead();
                attributes.put("Git-Tags", String.join(",", tags));
                PluginManifest.classifierTag(name, version, List.copyOf(tags)).ifPresent(t -> attributes.put("Git-Tag", t));
                attributes.put("Git-Dirty", Boolean.toString(dirty));
            });
            attributes.put("Git-Repository", card.path("repository").asText(
                    git.map(g -> g.workTree().getFileName().toString()).orElse(dir.toAbsolutePath().getFileName().toString())));
            attributes.put("Build-Time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            Path jar = output.orElse(dir.resolve("target").resolve(name + "-" + version + ".jar"));
            List<String> artifacts = artifacts(dir, card);
            writeJar(dir, jar, attributes, artifacts);
            return new ModelPackage(jar, attributes, artifacts);
        } finally {
            git.ifPresent(GitRepo::close);
        }
    }

    /** mlserver.yaml's {@code version:}, else the newest of the classifier's git tags. */
    private static String version(JsonNode card, String name, Optional<GitRepo> git) {
        if (card.hasNonNull("version")) {
            return card.get("version").asText();
        }
        return git.flatMap(g -> g.tags().stream()
                        .map(t -> TagFormat.read(t.name()))
                        .flatMap(Optional::stream)
                        .filter(t -> t.classifier().equals(name))
                        .map(TagFormat.ClassifierTag::version)
                        .max(Comparator.naturalOrder()))
                .map(Object::toString)
                .orElseThrow(() -> new RepoException("no version for " + name + ": set version: in mlserver.yaml, or tag the "
                        + "commit " + name + "-v0.1.0 (ml_server bump)"));
    }

    private static List<String> artifacts(Path dir, JsonNode card) {
        List<String> out = new ArrayList<>();
        for (String key : ARTIFACT_KEYS) {
            String file = card.path(key).asText(ARTIFACT_DEFAULTS.get(key));
            if (Files.isRegularFile(dir.resolve(file)) && !out.contains(file)) {
                out.add(file);
            }
        }
        return out;
    }

    private static void writeJar(Path dir, Path jar, Map<String, String> attributes, List<String> artifacts) {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        attributes.forEach((k, v) -> main.put(new Attributes.Name(k), v));
        try {
            Path parent = jar.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path partial = Files.createTempFile(parent, jar.getFileName().toString(), ".part");
            try (OutputStream file = Files.newOutputStream(partial); JarOutputStream out = new JarOutputStream(file, manifest)) {
                entry(out, ModelDir.CARD, dir.resolve(ModelDir.CARD));
                for (String artifact : artifacts) {
                    entry(out, "artifacts/" + artifact, dir.resolve(artifact));
                }
            }
            Files.move(partial, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new RepoException("cannot write " + jar + ": " + e.getMessage(), e);
        }
    }

    private static void entry(JarOutputStream out, String name, Path file) throws IOException {
        out.putNextEntry(new JarEntry(name));
        Files.copy(file, out);
        out.closeEntry();
    }
}
