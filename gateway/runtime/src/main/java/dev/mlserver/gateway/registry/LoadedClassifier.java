package dev.mlserver.gateway.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.gateway.bulkhead.Bulkhead;
import dev.mlserver.gateway.cache.PredictionCache;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.plugin.OpenedPlugin;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One classifier version being served: its opened plugin wrapped in its bulkhead and, when its
 * {@code mlserver.yaml} asks for one, its prediction cache. Retiring it lets its admitted
 * predictions finish, then closes the plugin (native session, class loader, private jar copy).
 */
public final class LoadedClassifier {
    private static final Logger LOG = LoggerFactory.getLogger(LoadedClassifier.class);

    private final OpenedPlugin plugin;
    private final ClassifierInfo info;
    private final Bulkhead bulkhead;
    private final PredictionCache cache;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Completes when closed, or when the retirement grace ended with predictions that never returned. */
    private final CompletableFuture<Void> retired = new CompletableFuture<>();
    private final AtomicBoolean retiring = new AtomicBoolean();
    /** Requests that resolved this version and have not ended; {@link #CLOSED} once retired and left by all. */
    private final AtomicInteger users = new AtomicInteger();
    private volatile Executor closer = Runnable::run;

    private static final int CLOSED = Integer.MIN_VALUE;

    LoadedClassifier(OpenedPlugin plugin, Bulkhead bulkhead, PredictionCache cache) {
        this.plugin = plugin;
        this.info = plugin.info();
        this.bulkhead = bulkhead;
        this.cache = cache;
    }

    public ClassifierInfo info() {
        return info;
    }

    public Classifier classifier() {
        return plugin.classifier();
    }

    public Bulkhead bulkhead() {
        return bulkhead;
    }

    /** This version's prediction cache, when its mlserver.yaml turns one on. */
    public Optional<PredictionCache> cache() {
        return Optional.ofNullable(cache);
    }

    /** The response metadata block, serialised once. */
    public byte[] metadataJson() {
        return plugin.metadataJson();
    }

    /** The response metadata block as a tree; do not modify. */
    public ObjectNode metadata() {
        return plugin.metadata();
    }

    /** The class loader of its plugin; for leak checks. */
    public ClassLoader classLoader() {
        return plugin.classLoader();
    }

    /**
     * Counts a request that resolved this version; false once the version has retired and every
     * request on it has ended, and then the caller resolves again. Each true is paired with one
     * {@link #leave}, when the request's response has ended.
     */
    public boolean tryEnter() {
        while (true) {
            int now = users.get();
            if (now == CLOSED) {
                return false;
            }
            if (users.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Ends a request counted by {@link #tryEnter}. */
    public void leave() {
        if (users.decrementAndGet() == 0 && retiring.get() && users.compareAndSet(0, CLOSED)) {
            drainThenClose();
        }
    }

    /**
     * Takes no new requests once the ones that resolved it have ended; lets every prediction they
     * submitted finish (queued ones included), then closes the classifier, unloads its plugin and
     * deletes its private jar copy on {@code closer}. A prediction that never returns keeps the
     * version open: its native session is never freed under a running call. The future
     * completes once closed.
     */
    public CompletableFuture<Void> retire(Executor closer) {
        this.closer = closer;
        if (retiring.compareAndSet(false, true) && users.compareAndSet(0, CLOSED)) {
            drainThenClose();
        }
        return closed;
    }

    /**
     * Retires as {@link #retire(Executor)} does, for at most {@code graceMillis}: a version whose
     * predictions have not all returned by then is retired anyway. Its waiters are refused, its
     * worker threads interrupted and abandoned (counted by {@link Bulkhead#running} until they
     * end), and it closes only if they ever return: a native session is never freed under a
     * running call. The future completes when the version closed or was abandoned.
     */
    public CompletableFuture<Void> retire(ScheduledExecutorService closer, long graceMillis) {
        retire(closer).whenComplete((v, e) -> retired.complete(null));
        if (!retired.isDone()) {
            ScheduledFuture<?> timer = closer.schedule(this::abandon, graceMillis, TimeUnit.MILLISECONDS);
            retired.whenComplete((v, e) -> timer.cancel(false));
        }
        return retired;
    }

    private void abandon() {
        if (retired.isDone()) {
            return;
        }
        int threads = bulkhead.abandon();
        LOG.warn("{} {}: retired after its grace with {} prediction(s) that never returned; {} thread(s) abandoned,"
                + " the version closes if they ever return", info.name(), info.version(), threads, threads);
        retired.complete(null);
    }

    private void drainThenClose() {
        bulkhead.retire().thenRunAsync(this::closeNow, closer).whenComplete((v, e) -> {
            if (e != null) {
                LOG.warn("{} {}: close failed: {}", info.name(), info.version(), e.toString());
            }
            closed.complete(null);
        });
    }

    /** Whether this version has been replaced or removed. */
    public boolean retiring() {
        return retiring.get();
    }

    /** Completes once the version is closed after {@link #retire}. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /** Retires and waits up to {@code drainMillis} for it to close, closing on the calling thread. Blocking. */
    public void close(long drainMillis) {
        close(drainMillis, Runnable::run);
    }

    /**
     * Retires and waits up to {@code drainMillis} for it to close; true when it did. Blocking:
     * call it off the event loop.
     */
    public boolean close(long drainMillis, Executor closer) {
        try {
            retire(closer).get(drainMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            LOG.warn("{} {}: {} prediction(s) still running after {} ms; left open", info.name(), info.version(),
                    bulkhead.admitted(), drainMillis);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }

    private void closeNow() {
        bulkhead.close();
        plugin.close();
        LOG.info("closed {} {} (sha256 {})", info.name(), info.version(), info.jarSha256().substring(0, 12));
    }
}
