package dev.mlserver.gateway.registry;

import dev.mlserver.gateway.plugin.LoadStep;
import dev.mlserver.gateway.plugin.OpenedPlugin;
import dev.mlserver.gateway.plugin.PluginLoadException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plugin loads in progress, each on a thread of its own with a deadline. The caller waits at
 * most {@code timeoutMillis}; a load that overruns it (a constructor, {@code open()},
 * {@code describe()} or warm-up that never returns, or spins) is abandoned: its caller gets a
 * {@link PluginLoadException} naming the step that did not return, its thread is interrupted
 * and left to end on its own (counted until it does), and whatever it loads if it ever returns
 * is closed at once. {@link #close} abandons every load in progress, for a shutdown that must
 * not wait for them.
 */
final class PluginLoads {
    private static final Logger LOG = LoggerFactory.getLogger(PluginLoads.class);

    private final long timeoutMillis;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    /** Abandoned loads, kept until their threads end. */
    private final java.util.Set<Pending> abandoned = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    PluginLoads(long timeoutMillis) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("load timeout must be positive: " + timeoutMillis);
        }
        this.timeoutMillis = timeoutMillis;
    }

    /** Runs {@code load} for the jar named {@code jar} with the deadline. Blocking, for at most the timeout. */
    OpenedPlugin run(String jar, Callable<OpenedPlugin> load) {
        if (closed) {
            throw new PluginLoadException("not loaded: the gateway is shutting down");
        }
        Pending p = new Pending(jar, Instant.now());
        pending.put(jar, p);
        Thread thread = new Thread(() -> {
            LoadStep.track(step -> p.step = step);
            try {
                OpenedPlugin loaded = load.call();
                if (!p.result.complete(loaded)) {
                    LOG.warn("the abandoned load of {} returned after all; closing what it loaded", jar);
                    loaded.close();
                }
            } catch (Throwable e) {
                p.result.completeExceptionally(e);
            } finally {
                LoadStep.track(null);
            }
        }, "mlserver-load-" + jar);
        thread.setDaemon(true);
        p.thread = thread;
        thread.start();
        try {
            return p.result.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            abandon(p, p.step + " did not return within " + seconds(timeoutMillis));
            return outcome(p);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(p, "interrupted while " + p.step + " was running");
            return outcome(p);
        } finally {
            pending.remove(jar, p);
        }
    }

    /** The loads in progress, as {@code loading} statuses whose reason says which step runs and for how long. */
    List<PluginStatus> pending() {
        Instant now = Instant.now();
        return pending.values().stream().sorted(Comparator.comparing(p -> p.jar))
                .map(p -> new PluginStatus(p.jar, null, PluginStatus.State.LOADING, null, null,
                        p.step + " running for " + seconds(Duration.between(p.since, now).toMillis()), p.since))
                .toList();
    }

    /** Threads of abandoned loads that have not ended yet. */
    int abandonedThreads() {
        abandoned.removeIf(p -> !p.thread.isAlive());
        return abandoned.size();
    }

    long timeoutMillis() {
        return timeoutMillis;
    }

    /** Refuses new loads and abandons every load in progress; their callers return at once. */
    void close() {
        closed = true;
        pending.values().forEach(p -> abandon(p, "abandoned while " + p.step + " was running: the gateway is shutting down"));
    }

    private void abandon(Pending p, String reason) {
        if (p.result.completeExceptionally(new PluginLoadException(reason))) {
            abandoned.add(p);
            LOG.error("plugin {}: {}; its load thread is abandoned", p.jar, reason);
            p.thread.interrupt();
        }
    }

    /** What a load ended with, once its result is set: the classifier, or its failure thrown. */
    private static OpenedPlugin outcome(Pending p) {
        try {
            return p.result.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw rethrow(e.getCause());
        }
    }

    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof RuntimeException r) {
            return r;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        return new PluginLoadException(String.valueOf(cause), cause);
    }

    static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    /** One load in progress. */
    private static final class Pending {
        final String jar;
        final Instant since;
        final CompletableFuture<OpenedPlugin> result = new CompletableFuture<>();
        volatile String step = "reading the jar";
        volatile Thread thread;

        Pending(String jar, Instant since) {
            this.jar = jar;
            this.since = since;
        }
    }
}
