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
import java.util.concurrent.ScheduledExecutorService;
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
    private final ScheduledExecutorService closer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mlserver-retire");
        t.setDaemon(true);
        return t;
    });
    private final PluginLoader loader;
    private final PluginLoads loads;
    /** Retired versions whose predictions never returned: their threads were abandoned at the end of the grace. */
    private final Set<LoadedClassifier> abandoned = ConcurrentHashMap.newKeySet();
    private final Vertx vertx;
    private final Listener listener;
    private final CpuBudget budget;
    private volatile boolean initialLoadDone;
    private volatile boolean warm;

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

        /** Tells {@code first}, then {@code second}; the bulkheads' listener is {@code first}'s. */
        static Listener both(Listener first, Listener second) {
            return new Listener() {
                @Override
                public void serving(LoadedClassifier classifier) {
                    first.serving(classifier);
                    second.serving(classifier);
                }

                @Override
                public void retired(ClassifierInfo info) {
                    first.retired(info);
                    second.retired(info);
                }

                @Override
                public void closed(LoadedClassifier classifier) {
                    first.closed(classifier);
                    second.closed(classifier);
                }

                @Override
                public void failed(String jar, String reason) {
                    first.failed(jar, reason);
                    second.failed(jar, reason);
                }

                @Override
                public Bulkhead.Listener bulkhead(String name, String version) {
                    return first.bulkhead(name, version);
                }
            };
        }
    }

    /** Loads jars with {@code loader} and runs each classifier's predictions in its bulkhead on {@code vertx}. */
    public ClassifierRegistry(PluginLoader loader, Vertx vertx, Listener listener) {
        this.loader = loader;
        this.vertx = vertx;
        this.listener = listener;
        this.budget = new CpuBudget(loader.onnx());
        this.loads = new PluginLoads(loader.lifecycle().loadTimeoutMs());
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

    /**
     * Every jar seen, by file name; a jar being loaded is {@code loading}, its reason naming the
     * step that runs and for how long.
     */
    public List<PluginStatus> statuses() {
        Map<String, PluginStatus> all = new java.util.TreeMap<>(statuses);
        for (PluginStatus p : loads.pending()) {
            PluginStatus known = all.get(p.jar());
            all.put(p.jar(), known == null ? p : new PluginStatus(p.jar(), known.sha256(), p.state(), known.classifier(),
                    known.version(), p.reason(), p.since()));
        }
        return List.copyOf(all.values());
    }

    /** The jars being loaded now, with the step each is in. */
    public List<PluginStatus> pending() {
        return statuses().stream().filter(s -> s.state() == PluginStatus.State.LOADING).toList();
    }

    /**
     * Serving versions that cannot answer: every one of their slots is held by a prediction that
     * overran {@code timeout_ms} and has not returned.
     */
    public List<LoadedClassifier> notReady() {
        return serving().stream().filter(c -> c.bulkhead().stuck()).toList();
    }

    /**
     * Threads left running by the gateway: loads abandoned at their deadline and predictions of
     * retired versions that never returned, until they end.
     */
    public int abandonedThreads() {
        abandoned.removeIf(c -> c.closed().isDone());
        return loads.abandonedThreads() + abandoned.stream().mapToInt(c -> c.bulkhead().running()).sum();
    }

    /** True once the jars present at start have all been tried. */
    public boolean initialLoadDone() {
        return initialLoadDone;
    }

    /** True once the serving path has been warmed (or the warm-up was off); readiness waits for this too. */
    public boolean warm() {
        return warm;
    }

    /** Marks the serving path warm: the last step before readiness turns 200. */
    public void warmedUp() {
        warm = true;
    }

    /** Marks the jars present at start as tried; readiness waits for this. */
    void initialLoadDone(boolean done) {
        synchronized (this) {
            initialLoadDone = done;
            // the first verdict on the CPU budget covers the whole start-up, not each jar
            budget.served(serving());
        }
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
    public PluginStatus load(Path jar, byte[] bytes) {
        String file = jar.getFileName().toString();
        OpenedPlugin opened;
        // outside the registry's lock, with a deadline: a load that hangs holds up nothing else
        try {
            opened = loads.run(file, () -> loader.load(jar, bytes));
        } catch (PluginLoadException e) {
            PluginStatus before = statuses.get(file);
            return fail(file, PluginLoader.sha256(bytes),
                    e.manifest().map(PluginManifest::id).orElse(before == null ? null : before.classifier()),
                    e.manifest().map(PluginManifest::version).orElse(null), e.getMessage());
        }
        return admit(jar, opened);
    }

    /** Serves a plugin that is open and warm, replacing what it replaces, in one step. */
    private synchronized PluginStatus admit(Path jar, OpenedPlugin opened) {
        String file = jar.getFileName().toString();
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
        if (initialLoadDone) {
            budget.served(serving());
        }
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
        budget.served(serving());
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
        loads.close();
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

    /** Abandons every load in progress and refuses new ones: the first step of a shutdown. */
    public void stopLoading() {
        loads.close();
    }

    private void retire(LoadedClassifier previous) {
        retiring.add(previous);
        long grace = loader.lifecycle().drainTimeoutMs();
        previous.retire(closer, grace).whenComplete((v, e) -> {
            if (!previous.closed().isDone()) {
                abandoned.add(previous);
            }
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
