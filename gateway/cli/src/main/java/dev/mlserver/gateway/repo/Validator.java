package dev.mlserver.gateway.repo;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Yaml;
import dev.mlserver.gateway.http.Routes;
import dev.mlserver.gateway.plugin.PluginLoadException;
import dev.mlserver.gateway.plugin.PluginLoader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

/**
 * {@code ml_server validate}: checks classifier sources and plugin jars as the gateway would load
 * them, and reports every problem with its file and key. A jar is opened and warmed for real.
 */
public final class Validator implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> REQUIRED_MANIFEST = List.of("Plugin-Id", "Plugin-Version");
    private static final List<String> EXPECTED_MANIFEST = List.of("Plugin-Provider", "Plugin-Requires", "Git-Commit",
            "Git-Repository", "Build-Time");

    private final GatewayConfig config;
    private final Set<String> reserved;
    private final List<Problem> problems = new ArrayList<>();
    private final List<String> checked = new ArrayList<>();
    private PluginLoader loader;
    private Path workDir;

    /**
     * What was checked and what was found.
     *
     * @param checked the classifier modules and jars looked at
     */
    public record Report(List<String> checked, List<Problem> problems) {
        public boolean ok() {
            return problems.stream().noneMatch(p -> p.severity() == Problem.Severity.ERROR);
        }
    }

    private Validator(GatewayConfig config) {
        this.config = config;
        this.reserved = Routes.reservedNames(config);
    }

    public static Validator create(GatewayConfig config) {
        return new Validator(config);
    }

    /** With the gateway's embedded default config and the environment. */
    public static Validator create() {
        return new Validator(ConfigLoader.create(System.getenv()).load(Optional.empty()));
    }

    /**
     * Validates {@code path}: a plugin jar, a directory of plugin jars, a classifier module (its
     * directory or its {@code mlserver.yaml}) or a whole repository.
     */
    public Report validate(Path path) {
        if (!Files.exists(path)) {
            problems.add(Problem.error(path.toString(), "", "does not exist"));
        } else if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".jar")) {
            jar(path);
        } else if (Files.isRegularFile(path) && path.getFileName().toString().equals("mlserver.yaml")) {
            module(path.toAbsolutePath().getParent(), path.getParent() == null ? Path.of(".") : path.getParent());
        } else if (Files.isDirectory(path) && Files.isRegularFile(path.resolve("mlserver.yaml"))
                && Files.isRegularFile(path.resolve("pom.xml"))) {
            module(path.toAbsolutePath(), path);
        } else if (ModelDir.is(path)) {
            String name = ModelDir.check(path, path.toString(), reserved, problems::add);
            checked.add((name == null ? "?" : name) + " (" + path + ")");
        } else if (Files.isDirectory(path) && !Files.exists(path.resolve("pom.xml")) && !jarsIn(path).isEmpty()) {
            jarsIn(path).forEach(this::jar);
        } else if (Files.isDirectory(path)) {
            repository(path);
        } else {
            problems.add(Problem.error(path.toString(), "", "is neither a plugin jar, an mlserver.yaml, a classifier "
                    + "module, a plugins directory nor a repository"));
        }
        return new Report(List.copyOf(checked), List.copyOf(problems));
    }

    private void repository(Path path) {
        Repository repo;
        try {
            repo = Repository.open(path);
        } catch (ConfigException | RepoException e) {
            problems.add(Problem.error(path.resolve(RepoConfig.FILE).toString(), "", e.getMessage()));
            return;
        }
        if (repo.classifiers().isEmpty()) {
            problems.add(Problem.error(path.toString(), "", "no classifier module (a directory with a pom.xml and an "
                    + "mlserver.yaml) in " + repo.root()));
            return;
        }
        Path base = path.toAbsolutePath().normalize();
        for (ClassifierModule module : repo.classifiers()) {
            Path shown = module.dir().startsWith(base) ? path.resolve(base.relativize(module.dir())) : module.dir();
            module(module.dir(), shown);
        }
    }

    private void module(Path dir, Path shown) {
        Path pomFile = dir.resolve("pom.xml");
        String pomName = shown.resolve("pom.xml").toString();
        String yamlName = shown.resolve("mlserver.yaml").toString();
        PomFile pom;
        try {
            pom = PomFile.read(pomFile);
        } catch (RepoException e) {
            problems.add(Problem.error(pomName, "", e.getMessage()));
            return;
        }
        String name = pom.artifactId().orElse(null);
        if (name == null) {
            problems.add(Problem.error(pomName, "artifactId", "is missing: it is the classifier's name and plugin id"));
            return;
        }
        checked.add(name + " (" + shown + ")");
        CardCheck.name(name, reserved, pomName, "artifactId", problems::add);
        Optional<String> version = pom.ownVersion();
        if (version.isEmpty()) {
            problems.add(Problem.error(pomName, "version", "the module has no <version> of its own: the classifier's "
                    + "version lives there (it now inherits " + pom.parentVersion().orElse("nothing") + ")"));
        } else if (SemVer.parse(version.get()).isEmpty()) {
            problems.add(Problem.error(pomName, "version", "'" + version.get() + "' is not a semantic version MAJOR.MINOR.PATCH"));
        }

        JsonNode card = readYaml(dir.resolve("mlserver.yaml"), yamlName);
        if (card == null) {
            return;
        }
        CardCheck.card(card, name, "pom.xml <version>", reserved, yamlName, problems::add);
        List<String> cardLabels = card.isObject() ? CardCheck.labels(card, yamlName, p -> {}) : null;

        Path artifacts = dir.resolve("artifacts");
        String model = card.path("model").asText("model.onnx");
        if (!Files.isDirectory(artifacts)) {
            problems.add(Problem.error(shown.resolve("artifacts").toString(), "", "is missing: a classifier's model and "
                    + "other artifacts go there"));
        } else {
            if (!Files.isRegularFile(artifacts.resolve(model)) && (card.has("model") || onnxFiles(artifacts).isEmpty())) {
                problems.add(Problem.error(yamlName, card.has("model") ? "model" : "", "artifact " + model
                        + " is not in " + shown.resolve("artifacts")));
            }
            for (Path onnx : onnxFiles(artifacts)) {
                onnx(onnx, shown.resolve("artifacts").resolve(artifacts.relativize(onnx)).toString(), cardLabels, yamlName);
            }
        }

        version.ifPresent(v -> {
            Path jar = dir.resolve("target").resolve(name + "-" + v + ".jar");
            if (Files.isRegularFile(jar)) {
                jar(jar, shown.resolve("target").resolve(jar.getFileName()).toString(), v);
            }
        });
    }

    private void onnx(Path file, String shown, List<String> cardLabels, String yamlName) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = OrtEnvironment.getEnvironment().createSession(file.toString(), options)) {
            String labels = session.getMetadata().getCustomMetadata().get("labels");
            if (labels != null && cardLabels != null && file.getFileName().toString().equals("model.onnx")) {
                List<String> modelLabels = labels.trim().startsWith("[")
                        ? List.of(JSON.readValue(labels, String[].class))
                        : Stream.of(labels.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
                if (!modelLabels.equals(cardLabels)) {
                    problems.add(Problem.error(yamlName, "labels", cardLabels + " differ from the model's " + modelLabels
                            + " (" + shown + ")"));
                }
            }
        } catch (OrtException | IOException e) {
            problems.add(Problem.error(shown, "", "ONNX Runtime cannot open it: " + firstLine(e.getMessage())));
        }
    }

    private void jar(Path jar) {
        jar(jar, jar.toString(), null);
    }

    private void jar(Path jar, String shown, String expectedVersion) {
        String manifestName = shown + "!META-INF/MANIFEST.MF";
        String yamlName = shown + "!mlserver.yaml";
        Map<String, String> manifest = new HashMap<>();
        JsonNode card = null;
        try (JarFile file = new JarFile(jar.toFile())) {
            if (file.getManifest() == null) {
                problems.add(Problem.error(shown, "", "has no manifest: not a plugin jar"));
                return;
            }
            Attributes a = file.getManifest().getMainAttributes();
            a.forEach((k, v) -> manifest.put(k.toString(), v.toString().trim()));
            ZipEntry yaml = file.getEntry("mlserver.yaml");
            if (yaml == null) {
                problems.add(Problem.warning(shown, "mlserver.yaml", "the jar has no mlserver.yaml: no model card, "
                        + "no metrics in responses"));
            } else if (yaml.getSize() > Yaml.MAX_CODE_POINTS) {
                problems.add(Problem.error(yamlName, "", "larger than " + Yaml.MAX_CODE_POINTS + " bytes"));
            } else {
                try (InputStream in = file.getInputStream(yaml)) {
                    card = parseYaml(new String(in.readAllBytes(), StandardCharsets.UTF_8), yamlName);
                }
            }
        } catch (IOException e) {
            problems.add(Problem.error(shown, "", "not a readable jar: " + e.getMessage()));
            return;
        }
        String id = present(manifest.get("Plugin-Id"));
        checked.add((id == null ? "?" : id) + " (" + shown + ")");
        for (String key : REQUIRED_MANIFEST) {
            if (present(manifest.get(key)) == null) {
                problems.add(Problem.error(manifestName, key, "is missing"));
            }
        }
        for (String key : EXPECTED_MANIFEST) {
            if (present(manifest.get(key)) == null) {
                problems.add(Problem.warning(manifestName, key, "is missing: responses will not name "
                        + (key.startsWith("Git") ? "the build's " + key.substring(4).toLowerCase() : "it")));
            }
        }
        if (id != null) {
            CardCheck.name(id, reserved, manifestName, "Plugin-Id", problems::add);
        }
        String version = present(manifest.get("Plugin-Version"));
        if (version != null && SemVer.parse(version).isEmpty()) {
            problems.add(Problem.error(manifestName, "Plugin-Version", "'" + version + "' is not a semantic version"));
        }
        if (version != null && expectedVersion != null && !version.equals(expectedVersion)) {
            problems.add(Problem.warning(manifestName, "Plugin-Version", version + " but pom.xml says " + expectedVersion
                    + ": the jar is stale, rebuild it"));
        }
        if ("true".equals(manifest.get("Git-Dirty"))) {
            problems.add(Problem.warning(manifestName, "Git-Dirty", "built from a work tree with uncommitted changes: "
                    + "its commit does not name exactly what is in it"));
        }
        if (card != null) {
            CardCheck.card(card, id, "the pom's <version> (the manifest's Plugin-Version)", reserved, yamlName, problems::add);
        }
        if (id == null || version == null) {
            return;
        }
        if (card != null && modelOnly(jar)) {
            // every problem of the model at once, each with its key; the load below would stop at the first
            int before = problems.size();
            ModelDir.model(jarArtifacts(jar), card, yamlName, problems::add);
            if (problems.subList(before, problems.size()).stream().anyMatch(p -> p.severity() == Problem.Severity.ERROR)) {
                return;
            }
        }
        try {
            loader().load(jar).close();
        } catch (PluginLoadException e) {
            problems.add(Problem.error(shown, "", "the gateway cannot serve it: " + e.getMessage()));
        }
    }

    private static boolean modelOnly(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getEntry("META-INF/extensions.idx") == null
                    && file.getEntry("META-INF/services/" + dev.mlserver.api.Classifier.class.getName()) == null;
        } catch (IOException e) {
            return false;
        }
    }

    /** The {@code artifacts/} of a jar, read whole (a model-only jar holds no encrypted artifact). */
    private static dev.mlserver.api.generic.ModelFiles jarArtifacts(Path jar) {
        return name -> {
            try (JarFile file = new JarFile(jar.toFile())) {
                ZipEntry entry = file.getEntry("artifacts/" + name);
                if (entry == null || name.contains("..")) {
                    return Optional.empty();
                }
                try (InputStream in = file.getInputStream(entry)) {
                    return Optional.of(in.readAllBytes());
                }
            } catch (IOException e) {
                return Optional.empty();
            }
        };
    }

    private PluginLoader loader() {
        if (loader == null) {
            try {
                workDir = Files.createTempDirectory("mlserver-validate-");
            } catch (IOException e) {
                throw new RepoException("cannot create a work directory: " + e.getMessage(), e);
            }
            loader = PluginLoader.standalone(config, workDir, GatewayVersion.current(), Routes.reservedNames(config));
        }
        return loader;
    }

    private JsonNode readYaml(Path file, String shown) {
        try {
            if (Files.size(file) > Yaml.MAX_CODE_POINTS) {
                problems.add(Problem.error(shown, "", "larger than " + Yaml.MAX_CODE_POINTS + " bytes"));
                return null;
            }
            return parseYaml(Files.readString(file, StandardCharsets.UTF_8), shown);
        } catch (IOException e) {
            problems.add(Problem.error(shown, "", "cannot read: " + e.getMessage()));
            return null;
        }
    }

    private JsonNode parseYaml(String text, String shown) {
        try {
            return Yaml.parse(text, shown);
        } catch (ConfigException e) {
            problems.add(Problem.error(shown, "", e.getMessage().startsWith(shown + ": ")
                    ? e.getMessage().substring(shown.length() + 2) : e.getMessage()));
            return null;
        }
    }

    private static List<Path> jarsIn(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<Path> onnxFiles(Path dir) {
        try (Stream<Path> files = Files.walk(dir, 4)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".onnx") && Files.isRegularFile(f))
                    .sorted(Comparator.naturalOrder()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String present(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? null : value;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        String line = message.lines().findFirst().orElse("");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    @Override
    public void close() {
        if (workDir != null) {
            try (Stream<Path> files = Files.walk(workDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a temporary directory left behind is harmless
            }
        }
    }
}
