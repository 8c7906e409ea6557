package dev.mlserver.gateway.plugin;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.generic.OnnxClassifier;
import dev.mlserver.gateway.cache.PredictionCache;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Limits;
import dev.mlserver.gateway.config.Yaml;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a plugin jar into an {@link OpenedPlugin}: copy it privately by content hash, read its
 * manifest and {@code mlserver.yaml}, load it in its own class loader, open and warm its
 * classifier. Any failure is a {@link PluginLoadException} with the reason, and leaves nothing
 * loaded behind. It starts no threads: serving and tools ({@code validate}, {@code doctor}) load alike.
 */
public final class PluginLoader {
    private static final Logger LOG = LoggerFactory.getLogger(PluginLoader.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The model a model-only jar's generic classifier opens unless its mlserver.yaml names another. */
    private static final String GENERIC_MODEL = "model.onnx";

    private final GatewayConfig config;
    private final Path workDir;
    private final String gatewayVersion;
    private final Set<String> reservedNames;
    private final PluginIntegrity integrity;
    /** The operator's per-classifier overrides; replaced when the gateway config is reloaded. */
    private volatile GatewayConfig.Classifiers classifiers;
    /** Private copies in use, by content hash: a copy is deleted when the last user lets go. */
    private final Map<String, Integer> copyUsers = new HashMap<>();

    /**
     * A loader that copies jars into {@code workDir}, checks them against {@code gatewayVersion}
     * (their {@code Plugin-Requires}), refuses classifier names in {@code reservedNames} and
     * verifies each jar with {@code integrity}.
     */
    public PluginLoader(GatewayConfig config, Path workDir, String gatewayVersion, Set<String> reservedNames,
                        PluginIntegrity integrity) {
        this.config = config;
        this.workDir = workDir;
        this.gatewayVersion = gatewayVersion;
        this.reservedNames = Set.copyOf(reservedNames);
        this.integrity = integrity;
        this.classifiers = config.classifiers();
    }

    /** Loads from now on apply these {@code classifiers:} overrides. */
    public void classifiers(GatewayConfig.Classifiers classifiers) {
        this.classifiers = classifiers;
    }

    /**
     * A loader for tools that open jars outside a running gateway ({@code validate},
     * {@code doctor}): the configured integrity check, no metrics. The caller names the gateway
     * version plugins are checked against and the names its routes reserve.
     */
    public static PluginLoader standalone(GatewayConfig config, Path workDir, String gatewayVersion,
                                          Set<String> reservedNames) {
        return new PluginLoader(config, workDir, gatewayVersion, reservedNames,
                PluginIntegrity.create(config.plugins(), PluginIntegrity.Listener.NONE));
    }

    /** The ONNX settings every classifier is loaded with. */
    public GatewayConfig.Onnx onnx() {
        return config.onnx();
    }

    /** How long loads may take and versions may drain. */
    public GatewayConfig.Lifecycle lifecycle() {
        return config.lifecycle();
    }

    /** Loads, opens and warms the classifier in {@code jar}. Blocking. */
    public OpenedPlugin load(Path jar) {
        return load(jar, read(jar));
    }

    /** Reads a jar whole, so that what is hashed is what is loaded. */
    public static byte[] read(Path jar) {
        try {
            return Files.readAllBytes(jar);
        } catch (IOException e) {
            throw new PluginLoadException("cannot read " + jar.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** Loads, opens and warms the classifier in {@code bytes}, read from {@code jar}. Blocking. */
    public OpenedPlugin load(Path jar, byte[] bytes) {
        String sha256 = sha256(bytes);
        integrity.verify(jar.getFileName().toString(), sha256);
        Path copy = privateCopy(bytes, sha256);
        try {
            return load(jar, sha256, copy);
        } catch (PluginLoadException e) {
            PluginLoadException named = e.of(PluginManifest.peek(copy));
            releaseCopy(sha256);
            throw named;
        } catch (RuntimeException | Error e) {
            releaseCopy(sha256);
            throw e;
        }
    }

    private OpenedPlugin load(Path jar, String sha256, Path copy) {
        PluginManifest manifest;
        JsonNode card;
        boolean modelOnly;
        try (JarFile jarFile = new JarFile(copy.toFile())) {
            if (jarFile.getManifest() == null) {
                throw new PluginLoadException("not a plugin jar: it has no manifest");
            }
            manifest = PluginManifest.read(jarFile.getManifest());
            card = readCard(jarFile);
            // PF4J would fall back to the gateway's class path for a missing index
            modelOnly = jarFile.getEntry("META-INF/extensions.idx") == null
                    && jarFile.getEntry("META-INF/services/" + Classifier.class.getName()) == null;
            String model = "artifacts/" + card.path("model").asText(GENERIC_MODEL);
            if (modelOnly && jarFile.getEntry(model) == null && jarFile.getEntry(model + ".enc") == null) {
                throw new PluginLoadException("the jar declares no Classifier extension and has no " + model
                        + " for the generic classifier: annotate the class with @Extension and compile it with PF4J on"
                        + " the class path (META-INF/extensions.idx is missing), or package a model with ml_server package");
            }
        } catch (IOException e) {
            throw new PluginLoadException("not a readable jar: " + e.getMessage(), e);
        }
        checkName(manifest.id());
        if (card.has("name") && !manifest.id().equals(card.get("name").asText())) {
            throw new PluginLoadException("mlserver.yaml names '" + card.get("name").asText()
                    + "' but the manifest's Plugin-Id is '" + manifest.id() + "'");
        }
        Limits limits;
        Optional<PredictionCache.Settings> cacheSettings;
        try {
            GatewayConfig.Classifiers operator = classifiers;
            limits = operator.limits(manifest.id(), config.limits().overriddenBy(card.get("limits"), "mlserver.yaml limits"));
            JsonNode cacheOverride = operator.settings(manifest.id()).cache();
            cacheSettings = cacheOverride.isMissingNode()
                    ? PredictionCache.Settings.parse(card.get("cache"), "mlserver.yaml cache")
                    : PredictionCache.Settings.parse(cacheOverride, "classifiers." + manifest.id() + ".cache");
        } catch (ConfigException e) {
            throw new PluginLoadException(e.getMessage(), e);
        }

        if (modelOnly) {
            return loadModelOnly(jar, sha256, copy, manifest, card, limits, cacheSettings);
        }
        SingleJarPluginManager plugins = new SingleJarPluginManager(workDir, gatewayVersion);
        String pluginId = null;
        Classifier classifier = null;
        try {
            LoadStep.enter("the plugin's constructor");
            pluginId = plugins.loadPlugin(copy);
            if (pluginId == null) {
                throw new PluginLoadException("PF4J could not load the jar");
            }
            PluginState state = plugins.startPlugin(pluginId);
            PluginWrapper wrapper = plugins.getPlugin(pluginId);
            if (state != PluginState.STARTED) {
                Throwable cause = wrapper.getFailedException();
                throw new PluginLoadException("plugin did not start (" + state + ")"
                        + (cause == null ? "" : ": " + cause), cause);
            }
            List<Classifier> found = plugins.getExtensions(Classifier.class, pluginId);
            if (found.isEmpty()) {
                // PF4J logs and skips an extension class that cannot be loaded: say why
                missingClass(wrapper.getPluginClassLoader(), copy).ifPresent(reason -> {
                    throw new PluginLoadException(reason);
                });
            }
            if (found.size() != 1) {
                throw new PluginLoadException("a plugin must have exactly one Classifier extension, found " + found.size());
            }
            classifier = found.get(0);
            JarContext context = new JarContext(manifest.id(), manifest.version(), card, copy, config.onnx().intraOpThreads(),
                    config.security().artifactKey(manifest.id()).orElse(null));
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(wrapper.getPluginClassLoader());
            Description description;
            try {
                LoadStep.enter("open()");
                classifier.open(context);
                LoadStep.enter("describe()");
                description = classifier.describe();
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
            ClassifierInfo info = info(manifest, card, description, limits, sha256, jar);
            LoadStep.enter("the warm-up prediction");
            warm(classifier, info);
            LOG.info("loaded {} {} from {} (sha256 {}, commit {}, tag {})", info.name(), info.version(),
                    jar.getFileName(), sha256.substring(0, 12), info.gitCommit(), info.gitTag());
            return new OpenedPlugin(info, classifier, plugins, pluginId, JSON.writeValueAsBytes(info.metadata()),
                    cacheSettings.orElse(null), () -> releaseCopy(sha256));
        } catch (PluginLoadException e) {
            cleanUp(plugins, pluginId, classifier);
            throw e;
        } catch (Exception | LinkageError e) {
            cleanUp(plugins, pluginId, classifier);
            throw new PluginLoadException(describe(e), e);
        }
    }

    /**
     * A model-only jar (no classes: an ONNX model and its mlserver.yaml) is served by the platform's
     * generic classifier, from the gateway's class loader: no plugin class loader is made.
     */
    private OpenedPlugin loadModelOnly(Path jar, String sha256, Path copy, PluginManifest manifest, JsonNode card,
                                       Limits limits, Optional<PredictionCache.Settings> cacheSettings) {
        Classifier classifier = new OnnxClassifier();
        try {
            JarContext context = new JarContext(manifest.id(), manifest.version(), card, copy, config.onnx().intraOpThreads(),
                    config.security().artifactKey(manifest.id()).orElse(null));
            LoadStep.enter("open()");
            classifier.open(context);
            LoadStep.enter("describe()");
            ClassifierInfo info = info(manifest, card, classifier.describe(), limits, sha256, jar);
            LoadStep.enter("the warm-up prediction");
            warm(classifier, info);
            LOG.info("loaded {} {} from {} with the generic ONNX classifier (sha256 {}, commit {}, tag {})", info.name(),
                    info.version(), jar.getFileName(), sha256.substring(0, 12), info.gitCommit(), info.gitTag());
            return new OpenedPlugin(info, classifier, null, null, JSON.writeValueAsBytes(info.metadata()),
                    cacheSettings.orElse(null), () -> releaseCopy(sha256));
        } catch (PluginLoadException e) {
            cleanUp(null, null, classifier);
            throw e;
        } catch (Exception | LinkageError e) {
            cleanUp(null, null, classifier);
            throw new PluginLoadException(describe(e), e);
        }
    }

    private ClassifierInfo info(PluginManifest manifest, JsonNode card, Description description,
                                Limits limits, String sha256, Path jar) {
        JsonNode cardLabels = card.get("labels");
        if (cardLabels != null && cardLabels.isArray()) {
            List<String> labels = JSON.convertValue(cardLabels, JSON.getTypeFactory().constructCollectionType(List.class, String.class));
            if (!labels.equals(description.labels())) {
                throw new PluginLoadException("mlserver.yaml labels " + labels + " differ from the model's " + description.labels());
            }
        }
        JsonNode example = card.has("example") ? card.get("example") : description.example();
        JsonNode metrics = card.path("model_metrics").isObject() ? card.get("model_metrics") : JsonNodeFactory.instance.objectNode();
        String repository = manifest.repository() != null ? manifest.repository() : config.repository();
        String description1 = card.path("description").asText(manifest.description() == null ? "" : manifest.description());
        return new ClassifierInfo(manifest.id(), manifest.version(), repository, manifest.gitTag(), manifest.gitCommit(),
                card.hasNonNull("trained_at") ? card.get("trained_at").asText() : null,
                config.api().version(), metrics, description1, description.labels(), description.inputSchema(),
                example, limits, sha256, jar, manifest.buildTime(), card);
    }

    private static void warm(Classifier classifier, ClassifierInfo info) {
        List<Prediction> predictions;
        try {
            predictions = classifier.predict(List.of(info.example()));
        } catch (RuntimeException e) {
            throw new PluginLoadException("warm-up prediction on the example failed: " + describe(e), e);
        }
        if (predictions == null || predictions.size() != 1) {
            throw new PluginLoadException("warm-up prediction returned "
                    + (predictions == null ? "null" : predictions.size() + " predictions") + " for one instance");
        }
        if (!info.labels().contains(predictions.get(0).label())) {
            throw new PluginLoadException("warm-up predicted '" + predictions.get(0).label() + "', not one of " + info.labels());
        }
    }

    private void checkName(String name) {
        if (!PluginManifest.NAME.matcher(name).matches()) {
            throw new PluginLoadException("invalid classifier name '" + clip(name)
                    + "': use lowercase letters, digits and dashes, starting with a letter or digit, at most 64");
        }
        if (reservedNames.contains(name)) {
            throw new PluginLoadException("classifier name '" + name + "' is reserved for a gateway route");
        }
    }

    private static JsonNode readCard(JarFile jar) throws IOException {
        ZipEntry entry = jar.getEntry("mlserver.yaml");
        if (entry == null) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (entry.getSize() > Yaml.MAX_CODE_POINTS) {
            throw new PluginLoadException("mlserver.yaml is larger than " + Yaml.MAX_CODE_POINTS + " bytes");
        }
        try (InputStream in = jar.getInputStream(entry)) {
            JsonNode card = Yaml.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "mlserver.yaml");
            if (!card.isObject()) {
                throw new PluginLoadException("mlserver.yaml must be a mapping");
            }
            return card;
        } catch (ConfigException e) {
            throw new PluginLoadException(e.getMessage(), e);
        }
    }

    private synchronized void releaseCopy(String sha256) {
        Integer users = copyUsers.merge(sha256, -1, Integer::sum);
        if (users != null && users <= 0) {
            copyUsers.remove(sha256);
            try {
                Files.deleteIfExists(workDir.resolve(sha256 + ".jar"));
            } catch (IOException e) {
                LOG.warn("cannot delete the private copy {}: {}", sha256, e.toString());
            }
        }
    }

    private synchronized Path privateCopy(byte[] bytes, String sha256) {
        Path copy = workDir.resolve(sha256 + ".jar");
        try {
            copyUsers.merge(sha256, 1, Integer::sum);
            if (!Files.exists(copy)) {
                Path partial = Files.createTempFile(workDir, sha256, WorkDirectory.PARTIAL);
                try {
                    Files.write(partial, bytes);
                    Files.move(partial, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    // a failed copy (a full disk) leaves nothing behind for the next reload to trip on
                    Files.deleteIfExists(partial);
                }
            }
            return copy;
        } catch (IOException e) {
            releaseCopy(sha256);
            throw new PluginLoadException("cannot copy the jar into " + workDir + ": " + e.getMessage(), e);
        }
    }

    private static void cleanUp(SingleJarPluginManager plugins, String pluginId, Classifier classifier) {
        if (classifier != null) {
            try {
                classifier.close();
            } catch (RuntimeException e) {
                LOG.debug("close after failed load: {}", e.toString());
            }
        }
        if (plugins != null && pluginId != null) {
            try {
                plugins.unloadPlugin(pluginId);
            } catch (RuntimeException e) {
                LOG.debug("unload after failed load: {}", e.toString());
            }
        }
    }

    /** The hex SHA-256 of a jar's bytes: its identity in the work directory, the lock file and the allowlist. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String describe(Throwable e) {
        Optional<String> missing = missingClass(e);
        if (missing.isPresent()) {
            return missing.get();
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /** Why a class the plugin needs cannot be loaded, when {@code e} (or a cause) says a class is missing. */
    private static Optional<String> missingClass(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if ((t instanceof NoClassDefFoundError || t instanceof ClassNotFoundException) && t.getMessage() != null) {
                String name = t.getMessage().split(" ", 2)[0].replace('/', '.');
                if (!PlatformClassLoader.provides(name)) {
                    return Optional.of("the plugin needs " + name + ", which is neither in its jar nor part of the platform ("
                            + PlatformClassLoader.PLATFORM_NAMES + "): bundle the library that holds it in the plugin jar");
                }
            }
        }
        return Optional.empty();
    }

    /** Loads each class the jar's extension index names, for the reason one cannot be loaded. */
    private static Optional<String> missingClass(ClassLoader plugin, Path jar) {
        try (JarFile jarFile = new JarFile(jar.toFile())) {
            ZipEntry index = jarFile.getEntry("META-INF/extensions.idx");
            if (index == null) {
                return Optional.empty();
            }
            String names;
            try (InputStream in = jarFile.getInputStream(index)) {
                names = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            for (String name : names.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList()) {
                try {
                    Class.forName(name, true, plugin);
                } catch (ClassNotFoundException | LinkageError e) {
                    return missingClass(e).or(() -> Optional.of("cannot load the extension " + name + ": " + e));
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
