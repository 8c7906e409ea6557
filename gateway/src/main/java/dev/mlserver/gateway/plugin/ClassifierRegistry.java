package dev.mlserver.gateway.plugin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classifiers being served, by name, and the fate of every plugin jar seen. Routing reads
 * {@link #find} on every request; a new version replaces the old in one step.
 */
public final class ClassifierRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ClassifierRegistry.class);

    private final Map<String, LoadedClassifier> serving = new ConcurrentHashMap<>();
    private final Map<String, PluginStatus> statuses = new ConcurrentHashMap<>();
    private final PluginLoader loader;
    private final Listener listener;
    private final CpuBudget budget;
    private volatile boolean initialLoadDone;

    /** Told when a classifier version starts or stops serving and when a jar fails. */
    public interface Listener {
        default void serving(LoadedClassifier classifier) {}

        default void retired(ClassifierInfo info) {}

        default void failed(String jar, String reason) {}
    }

    public ClassifierRegistry(PluginLoader loader, Listener listener) {
        this.loader = loader;
        this.listener = listener;
        this.budget = new CpuBudget(loader.onnx());
    }

    public Optional<LoadedClassifier> find(String name) {
        return Optional.ofNullable(serving.get(name));
    }

    /** The classifiers being served, by name. */
    public Collection<LoadedClassifier> serving() {
        return serving.values().stream().sorted(Comparator.comparing(c -> c.info().name())).toList();
    }

    /** Every jar seen, by file name. */
    public List<PluginStatus> statuses() {
        return statuses.values().stream().sorted(Comparator.comparing(PluginStatus::jar)).toList();
    }

    /** True once the jars present at start have all been tried. */
    public boolean initialLoadDone() {
        return initialLoadDone;
    }

    /** Loads every {@code *.jar} in {@code dir}, in name order. Blocking. */
    public void loadAll(Path dir) {
        try {
            for (Path jar : jars(dir)) {
                load(jar);
            }
        } finally {
            initialLoadDone = true;
        }
    }

    /**
     * Loads one jar and, if it opens and warms, serves it. A jar whose classifier is already
     * served from another jar is refused. Returns the status recorded. Blocking.
     */
    public PluginStatus load(Path jar) {
        String file = jar.getFileName().toString();
        statuses.put(file, new PluginStatus(file, null, PluginStatus.State.LOADING, null, null, null, Instant.now()));
        LoadedClassifier loaded;
        try {
            loaded = loader.load(jar);
        } catch (PluginLoadException e) {
            return fail(file, null, e.getMessage());
        }
        ClassifierInfo info = loaded.info();
        Optional<PluginStatus> owner = statuses.values().stream()
                .filter(s -> s.state() == PluginStatus.State.READY && info.name().equals(s.classifier()) && !s.jar().equals(file))
                .findFirst();
        if (owner.isPresent()) {
            loaded.close(0);
            return fail(file, info, "classifier '" + info.name() + "' is already served from " + owner.get().jar());
        }
        Optional<String> overBudget = budget.check(info, serving.values());
        if (overBudget.isPresent()) {
            loaded.close(0);
            return fail(file, info, overBudget.get());
        }
        LoadedClassifier previous = serving.put(info.name(), loaded);
        PluginStatus status = new PluginStatus(file, info.jarSha256(), PluginStatus.State.READY, info.name(),
                info.version(), null, Instant.now());
        statuses.put(file, status);
        listener.serving(loaded);
        if (previous != null) {
            retire(previous);
        }
        return status;
    }

    /** Stops serving every classifier and closes each once drained. Blocking. */
    public void closeAll(long drainMillis) {
        List<LoadedClassifier> all = new ArrayList<>(serving.values());
        serving.clear();
        for (LoadedClassifier c : all) {
            listener.retired(c.info());
            c.close(drainMillis);
        }
    }

    private void retire(LoadedClassifier previous) {
        listener.retired(previous.info());
        previous.close(previous.info().limits().timeoutMs());
        LOG.info("retired {} {}", previous.info().name(), previous.info().version());
    }

    private PluginStatus fail(String file, ClassifierInfo info, String reason) {
        LOG.error("plugin {} failed: {}", file, reason);
        PluginStatus status = new PluginStatus(file, info == null ? null : info.jarSha256(), PluginStatus.State.FAILED,
                info == null ? null : info.name(), info == null ? null : info.version(), reason, Instant.now());
        statuses.put(file, status);
        listener.failed(file, reason);
        return status;
    }

    private static List<Path> jars(Path dir) {
        if (!Files.isDirectory(dir)) {
            LOG.warn("plugins directory {} does not exist; serving no classifiers", dir.toAbsolutePath());
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            LOG.error("cannot list {}: {}", dir, e.toString());
            return List.of();
        }
    }
}
