package dev.mlserver.gateway.registry;

import dev.mlserver.gateway.bulkhead.Bulkhead;
import dev.mlserver.gateway.cache.PredictionCache;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.plugin.OpenedPlugin;
import dev.mlserver.gateway.plugin.PluginLoadException;
import dev.mlserver.gateway.plugin.PluginLoader;
import dev.mlserver.gateway.plugin.PluginManifest;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classifiers being served, by name and version, and the fate of every plugin jar seen.
 * Several versions of a classifier serve side by side, one per jar file; unpinned routes use
 * its default version ({@link ClassifierVersions#defaultVersion}). Routing reads {@link #enter}
 * on every request; a jar replaced by a new build swaps in one step, and the old build drains
 * and closes in the background.
 */
public final class ClassifierRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ClassifierRegistry.class);

    private final Map<String, ClassifierVersions> serving = new ConcurrentHashMap<>();
    /** Default versions named by the operator, by classifier; a name absent serves its highest version. */
    private volatile Map<String, String> defaultPins = Map.of();
    private final Map<String, PluginStatus> statuses = new ConcurrentHashMap<>();
    private final Set<LoadedClassifier> retiring = ConcurrentHashMap.newKeySet();
    private final ExecutorService closer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "mlserver-retire");
        t.setDaemon(true);
        return t;
    });
    private final PluginLoader loader;
    private final Vertx vertx;
    private final Listener listener;
    private final CpuBudget budget;
    private volatile boolean initialLoadDone;

    /** Told when a classifier version starts or stops serving and when a jar fails. */
    public interface Listener {
        default void serving(LoadedClassifier classifier) {}

        default void retired(ClassifierInfo info) {}

        /** One loaded build has closed (a rebuild of the same version may serve on). */
        default void closed(LoadedClassifier classifier) {}

        default void failed(String jar, String reason) {}

        /** The listener of a classifier version's bulkhead (its metrics). */
        default Bulkhead.Listener bulkhead(String name, String version) {
            return Bulkhead.Listener.NONE;
        }
    }

    /** Loads jars with {@code loader} and runs each classifier's predictions in its bulkhead on {@code vertx}. */
    public ClassifierRegistry(PluginLoader loader, Vertx vertx, Listener listener) {
        this.loader = loader;
        this.vertx = vertx;
        this.listener = listener;
        this.budget = new CpuBudget(loader.onnx());
    }

    /** The default version of {@code name}. */
    public Optional<LoadedClassifier> find(String name) {
        ClassifierVersions versions = serving.get(name);
        return versions == null ? Optional.empty() : Optional.of(versions.defaultVersion());
    }

    /** One loaded version of {@code name}. */
    public Optional<LoadedClassifier> find(String name, String version) {
        ClassifierVersions versions = serving.get(name);
        return versions == null ? Optional.empty() : versions.find(version);
    }

    /** Every loaded version of {@code name}. */
    public Optional<ClassifierVersions> versions(String name) {
        return Optional.ofNullable(serving.get(name));
    }

    /**
     * The default version of {@code name}, counted as used by one more request: pair it with
     * {@link LoadedClassifier#leave} when the request ends. A version that retires meanwhile is
     * skipped for the one that replaced it.
     */
    public Optional<LoadedClassifier> enter(String name) {
        return enter(() -> find(name));
    }

    /** Like {@link #enter(String)}, for one version: the pinned routes. */
    public Optional<LoadedClassifier> enter(String name, String version) {
        return enter(() -> find(name, version));
    }

    /** Enters what {@code lookup} finds, looking again while it finds a version that has just retired. */
    public static Optional<LoadedClassifier> enter(java.util.function.Supplier<Optional<LoadedClassifier>> lookup) {
        for (int attempt = 0; attempt < 8; attempt++) {
            LoadedClassifier c = lookup.get().orElse(null);
            if (c == null) {
                return Optional.empty();
            }
            if (c.tryEnter()) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Every version being served, by name then version. */
    public Collection<LoadedClassifier> serving() {
        return classifiers().stream().flatMap(v -> v.all().stream()).toList();
    }

    /** The default version of every classifier, by name. */
    public List<LoadedClassifier> defaults() {
        return classifiers().stream().map(ClassifierVersions::defaultVersion).toList();
    }

    /** Every classifier with its loaded versions, by name. */
    public List<ClassifierVersions> classifiers() {
        return serving.values().stream().sorted(Comparator.comparing(ClassifierVersions::name)).toList();
    }

    /**
     * Makes {@code pins} (classifier name to version) the operator's default versions; a
     * classifier absent from it, or whose pinned version is not loaded, serves its highest.
     */
    public synchronized void pinDefaults(Map<String, String> pins) {
        defaultPins = Map.copyOf(pins);
        serving.replaceAll((name, versions) -> versions.withPinnedDefault(pins.getOrDefault(name, "")));
    }

    /** Every jar seen, by file name. */
    public List<PluginStatus> statuses() {
        return statuses.values().stream().sorted(Comparator.comparing(PluginStatus::jar)).toList();
    }

    /** True once the jars present at start have all been tried. */
    public boolean initialLoadDone() {
        return initialLoadDone;
    }

    /** Marks the jars present at start as tried; readiness waits for this. */
    void initialLoadDone(boolean done) {
        initialLoadDone = done;
    }

    /**
     * Loads one jar and, if it opens and warms, serves it beside the classifier's other versions.
     * A jar whose classifier version is already served from another jar file is refused while
     * that file exists; once that file is gone the new jar takes the version over. Returns the
     * status recorded. Blocking.
     */
    public PluginStatus load(Path jar) {
        byte[] bytes;
        try {
            bytes = PluginLoader.read(jar);
        } catch (PluginLoadException e) {
            return fail(jar.getFileName().toString(), null, e.getMessage());
        }
        return load(jar, bytes);
    }

    /**
     * Loads {@code bytes}, read from {@code jar}, beside whatever serves now; only when it is
     * open and warm does it serve, in one step. What it replaces (the build served from the same
     * file, or the same version from a file that is gone) retires in the background: its
     * admitted predictions finish, then it closes. A jar that fails leaves what serves
     * untouched. Blocking.
     */
    public synchronized PluginStatus load(Path jar, byte[] bytes) {
        String file = jar.getFileName().toString();
        PluginStatus before = statuses.get(file);
        statuses.put(file, new PluginStatus(file, before == null ? null : before.sha256(), PluginStatus.State.LOADING,
                before == null ? null : before.classifier(), before == null ? null : before.version(), null, Instant.now()));
        OpenedPlugin opened;
        try {
            opened = loader.load(jar, bytes);
        } catch (PluginLoadException e) {
            return fail(file, PluginLoader.sha256(bytes), e.manifest().map(PluginManifest::id).orElse(null),
                    e.manifest().map(PluginManifest::version).orElse(null), e.getMessage());
        }
        ClassifierInfo info = opened.info();
        LoadedClassifier fromFile = servedFrom(file).orElse(null);
        LoadedClassifier sameVersion = find(info.name(), info.version()).orElse(null);
        if (sameVersion != null && sameVersion != fromFile) {
            String owner = sameVersion.info().jar().getFileName().toString();
            if (Files.exists(jar.resolveSibling(owner))) {
                opened.close();
                return fail(file, info, info.name() + " " + info.version() + " is already served from " + owner
                        + "; one jar file per version: replace " + owner + " instead, or give this build a new version");
            }
            // the jar it was served from is gone (renamed or replaced under another name): take over
            statuses.computeIfPresent(owner, (k, s) -> info.name().equals(s.classifier()) ? null : s);
        }
        List<LoadedClassifier> others = serving().stream().filter(c -> c != fromFile && c != sameVersion).toList();
        Optional<String> overBudget = budget.check(info, others);
        if (overBudget.isPresent()) {
            opened.close();
            return fail(file, info, overBudget.get());
        }
        LoadedClassifier loaded = serve(opened);
        serving.compute(info.name(), (name, versions) -> {
            ClassifierVersions next = versions == null
                    ? new ClassifierVersions(name, List.of(loaded), defaultPins.getOrDefault(name, ""))
                    : versions.with(loaded);
            return fromFile == null || fromFile == sameVersion ? next : next.without(fromFile).orElseThrow();
        });
        PluginStatus status = new PluginStatus(file, info.jarSha256(), PluginStatus.State.READY, info.name(),
                info.version(), null, Instant.now());
        statuses.put(file, status);
        listener.serving(loaded);
        for (LoadedClassifier previous : new LoadedClassifier[] {sameVersion, fromFile == sameVersion ? null : fromFile}) {
            if (previous != null) {
                LOG.info("{}: {} from {} replaces {}; the old build drains in the background", info.name(), info.version(),
                        file, previous.info().version());
                retire(previous);
            }
        }
        return status;
    }

    /** The version served from the jar file named {@code file}. */
    private Optional<LoadedClassifier> servedFrom(String file) {
        return serving().stream().filter(c -> c.info().jar().getFileName().toString().equals(file)).findFirst();
    }

    /** Wraps an opened plugin in its own bulkhead and, when it asks for one, its prediction cache. */
    private LoadedClassifier serve(OpenedPlugin opened) {
        ClassifierInfo info = opened.info();
        Bulkhead bulkhead = Bulkhead.create(info.name() + "-" + info.version(), info.limits(), vertx,
                listener.bulkhead(info.name(), info.version()));
        return new LoadedClassifier(opened, bulkhead,
                opened.cache().map(settings -> PredictionCache.create(info.version(), settings)).orElse(null));
    }

    /**
     * Forgets a jar that left the plugins directory. If it was serving a version, that version
     * leaves the routes at once (its pinned routes answer 404; the default moves to the next
     * version, if any) and drains and closes in the background.
     */
    public synchronized Optional<PluginStatus> remove(String file) {
        PluginStatus status = statuses.remove(file);
        servedFrom(file).ifPresent(c -> {
            serving.computeIfPresent(c.info().name(), (name, versions) -> versions.without(c).orElse(null));
            LOG.info("{} removed: {} {} drains and unloads", file, c.info().name(), c.info().version());
            retire(c);
        });
        return Optional.ofNullable(status);
    }

    /** Versions replaced or removed that are still finishing their predictions. */
    public List<LoadedClassifier> retiring() {
        return List.copyOf(retiring);
    }

    /**
     * Stops serving every classifier, waits up to {@code drainMillis} in all for their
     * predictions, and closes each that drained. Blocking.
     */
    public void closeAll(long drainMillis) {
        List<LoadedClassifier> all;
        synchronized (this) {
            all = new ArrayList<>(serving());
            serving.clear();
            all.forEach(this::retire);
        }
        List<CompletableFuture<Void>> closing = retiring().stream().map(LoadedClassifier::closed).toList();
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(drainMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            retiring().forEach(c -> LOG.warn("{} {}: {} prediction(s) still running after {} ms; left open",
                    c.info().name(), c.info().version(), c.bulkhead().admitted(), drainMillis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("closing classifiers: {}", e.toString());
        }
        closer.shutdown();
    }

    private void retire(LoadedClassifier previous) {
        retiring.add(previous);
        previous.retire(closer).whenComplete((v, e) -> {
            synchronized (this) {
                retiring.remove(previous);
                ClassifierInfo info = previous.info();
                listener.closed(previous);
                boolean sameVersionServes = find(info.name(), info.version()).isPresent();
                if (!sameVersionServes) {
                    listener.retired(info);
                }
                LOG.info("retired {} {}", info.name(), info.version());
            }
        });
    }

    private PluginStatus fail(String file, ClassifierInfo info, String reason) {
        return fail(file, info == null ? null : info.jarSha256(), info == null ? null : info.name(),
                info == null ? null : info.version(), reason);
    }

    private PluginStatus fail(String file, String sha256, String classifier, String version, String reason) {
        LOG.error("plugin {} failed: {}", file, reason);
        PluginStatus status = new PluginStatus(file, sha256, PluginStatus.State.FAILED, classifier, version, reason,
                Instant.now());
        statuses.put(file, status);
        listener.failed(file, reason);
        return status;
    }
}
