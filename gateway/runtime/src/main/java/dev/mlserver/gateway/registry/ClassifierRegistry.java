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
 * The classifiers being served, by name, and the fate of every plugin jar seen. Each request
 * resolves its classifier with {@link #enter} and leaves it when its response has ended; a new
 * version replaces the old in one step, and the old one drains and closes in the background.
 */
public final class ClassifierRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ClassifierRegistry.class);

    private final Map<String, LoadedClassifier> serving = new ConcurrentHashMap<>();
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
        this.loads = new PluginLoads(loader.lifecycle().loadTimeoutMs());
    }

    public Optional<LoadedClassifier> find(String name) {
        return Optional.ofNullable(serving.get(name));
    }

    /**
     * The version of {@code name} serving now, counted as used by one more request: pair it with
     * {@link LoadedClassifier#leave} when the request ends. A version that retires meanwhile is
     * skipped for the one that replaced it.
     */
    public Optional<LoadedClassifier> enter(String name) {
        for (int attempt = 0; attempt < 8; attempt++) {
            LoadedClassifier c = serving.get(name);
            if (c == null) {
                return Optional.empty();
            }
            if (c.tryEnter()) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** The classifiers being served, by name. */
    public Collection<LoadedClassifier> serving() {
        return serving.values().stream().sorted(Comparator.comparing(c -> c.info().name())).toList();
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
            budget.served(serving.values());
        }
    }

    /**
     * Loads one jar and, if it opens and warms, serves it. A jar whose classifier is already
     * served from another jar file is refused while that file exists; once that file is gone the
     * new jar takes the classifier over. Returns the status recorded. Blocking.
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
     * open and warm does its route switch, in one step. The version it replaces retires in the
     * background: its admitted predictions finish, then it closes. A jar that fails leaves what
     * serves untouched. Blocking.
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
        LoadedClassifier current = serving.get(info.name());
        if (current != null) {
            String owner = current.info().jar().getFileName().toString();
            if (!owner.equals(file)) {
                if (Files.exists(jar.resolveSibling(owner))) {
                    opened.close();
                    return fail(file, info, "classifier '" + info.name() + "' is already served from " + owner
                            + "; one jar file per classifier: replace " + owner + " instead");
                }
                // the jar it was served from is gone (renamed or replaced under another name): take over
                statuses.computeIfPresent(owner, (k, s) -> info.name().equals(s.classifier()) ? null : s);
            }
        }
        Optional<String> overBudget = budget.check(info, serving.values());
        if (overBudget.isPresent()) {
            opened.close();
            return fail(file, info, overBudget.get());
        }
        LoadedClassifier loaded = serve(opened);
        LoadedClassifier previous = serving.put(info.name(), loaded);
        PluginStatus status = new PluginStatus(file, info.jarSha256(), PluginStatus.State.READY, info.name(),
                info.version(), null, Instant.now());
        statuses.put(file, status);
        if (initialLoadDone) {
            budget.served(serving.values());
        }
        listener.serving(loaded);
        if (previous != null) {
            LOG.info("{}: {} replaces {}; the old version drains in the background", info.name(), info.version(),
                    previous.info().version());
            retire(previous);
        }
        return status;
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
     * Forgets a jar that left the plugins directory. If it was serving its classifier, the route
     * goes away at once (404) and the version drains and closes in the background.
     */
    public synchronized Optional<PluginStatus> remove(String file) {
        PluginStatus status = statuses.remove(file);
        for (LoadedClassifier c : serving.values()) {
            if (c.info().jar().getFileName().toString().equals(file) && serving.remove(c.info().name(), c)) {
                LOG.info("{} removed: {} {} drains and unloads", file, c.info().name(), c.info().version());
                retire(c);
            }
        }
        budget.served(serving.values());
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
            all = new ArrayList<>(serving.values());
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
                boolean sameVersionServes = serving.values().stream()
                        .anyMatch(c -> c.info().name().equals(info.name()) && c.info().version().equals(info.version()));
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
