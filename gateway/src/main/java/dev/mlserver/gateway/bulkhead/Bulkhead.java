package dev.mlserver.gateway.bulkhead;

import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.Limits;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One classifier's share of the machine: at most {@code max_concurrent_predictions} run at once
 * on its own threads, at most {@code max_queue} wait, none waits longer than
 * {@code queue_timeout_ms}. Admission never blocks the caller, which is an event loop.
 *
 * <p>A prediction that overruns {@code timeout_ms} fails its caller at once, but keeps its slot
 * until the native call really returns, so the classifier never runs more than its limit.
 *
 * <p>When its classifier version is replaced or removed, the bulkhead {@link #retire retires}: work
 * already admitted (running or queued) runs to its end on the same threads; once none is left the
 * bulkhead admits nothing more and {@link #retire} completes.
 */
public final class Bulkhead {
    private final String name;
    private final Limits limits;
    private final Vertx vertx;
    private final ExecutorService workers;
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger queued = new AtomicInteger();
    private final Queue<Waiter<?>> waiting = new ConcurrentLinkedQueue<>();
    private final Listener listener;
    /** Admitted predictions not yet finished (queued, running, or running past their timeout); {@link #RETIRED} once retired and idle. */
    private final AtomicInteger admitted = new AtomicInteger();
    private final CompletableFuture<Void> idle = new CompletableFuture<>();
    private volatile boolean retiring;

    private static final int RETIRED = Integer.MIN_VALUE;

    /** Told about each admission outcome; used for metrics. */
    public interface Listener {
        Listener NONE = new Listener() {};

        default void queueWait(long nanos) {}

        default void rejected(String reason) {}
    }

    private Bulkhead(String name, Limits limits, Vertx vertx, Listener listener) {
        this.name = name;
        this.limits = limits;
        this.vertx = vertx;
        this.listener = listener;
        this.workers = Executors.newFixedThreadPool(limits.maxConcurrentPredictions(), threads(name));
    }

    public static Bulkhead create(String name, Limits limits, Vertx vertx, Listener listener) {
        return new Bulkhead(name, limits, vertx, listener);
    }

    public Limits limits() {
        return limits;
    }

    /** Predictions running now. */
    public int running() {
        return running.get();
    }

    /** Predictions waiting for a slot now. */
    public int queued() {
        return queued.get();
    }

    /**
     * Runs {@code task} on this classifier's threads when a slot is free. The future completes on
     * the caller's context: with the task's result, its exception, a {@code classifier_saturated}
     * failure when the queue is full or the wait too long, or a {@code prediction_timeout}.
     * A bulkhead that has retired and drained fails with {@link Retired}, synchronously: the
     * caller then submits to the version that replaced it.
     */
    public <T> Future<T> submit(Callable<T> task) {
        if (!enter()) {
            return Future.failedFuture(new Retired(name));
        }
        Context context = vertx.getOrCreateContext();
        Waiter<T> waiter = new Waiter<>(task, context, System.nanoTime());
        if (tryAcquire()) {
            waiter.claim();
            start(waiter);
            return waiter.promise.future();
        }
        if (queued.incrementAndGet() > limits.maxQueue()) {
            queued.decrementAndGet();
            leave();
            listener.rejected("queue_full");
            return Future.failedFuture(GatewayException.saturated(
                    name + " is saturated: " + limits.maxConcurrentPredictions() + " running and "
                            + limits.maxQueue() + " waiting"));
        }
        waiting.add(waiter);
        waiter.queueTimer = vertx.setTimer(limits.queueTimeoutMs(), id -> {
            if (waiter.claim()) {
                waiting.remove(waiter);
                queued.decrementAndGet();
                leave();
                listener.rejected("queue_timeout");
                waiter.fail(GatewayException.saturated(
                        name + " is saturated: no slot within " + limits.queueTimeoutMs() + " ms"));
            }
        });
        drain();
        return waiter.promise.future();
    }

    /** Predictions admitted and not yet finished: queued, running, or still running past their timeout. */
    public int admitted() {
        return Math.max(0, admitted.get());
    }

    /**
     * Stops admitting once the work already admitted has finished. The future completes (on the
     * thread that finished the last prediction, or this one) when nothing is left; then
     * {@link #close} is safe.
     */
    public CompletableFuture<Void> retire() {
        retiring = true;
        if (admitted.compareAndSet(0, RETIRED)) {
            idle.complete(null);
        }
        return idle;
    }

    /** Stops the worker threads once the running predictions have returned. */
    public void close() {
        workers.shutdown();
    }

    private boolean enter() {
        while (true) {
            int now = admitted.get();
            if (now == RETIRED) {
                return false;
            }
            if (admitted.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    private void leave() {
        if (admitted.decrementAndGet() == 0 && retiring && admitted.compareAndSet(0, RETIRED)) {
            idle.complete(null);
        }
    }

    /** Waits up to {@code millis} for the worker threads to finish; true when they did. */
    public boolean awaitTermination(long millis) throws InterruptedException {
        return workers.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }

    private boolean tryAcquire() {
        while (true) {
            int now = running.get();
            if (now >= limits.maxConcurrentPredictions()) {
                return false;
            }
            if (running.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Hands free slots to waiters, oldest first. */
    private void drain() {
        while (!waiting.isEmpty() && tryAcquire()) {
            Waiter<?> next = waiting.poll();
            if (next != null && next.claim()) {
                queued.decrementAndGet();
                vertx.cancelTimer(next.queueTimer);
                start(next);
            } else {
                running.decrementAndGet();
            }
        }
    }

    private <T> void start(Waiter<T> waiter) {
        listener.queueWait(System.nanoTime() - waiter.enqueued);
        long timer = vertx.setTimer(limits.timeoutMs(), id -> waiter.fail(GatewayException.timeout(limits.timeoutMs())));
        try {
            workers.execute(() -> {
                try {
                    T result = waiter.task.call();
                    waiter.complete(result);
                } catch (Throwable t) {
                    waiter.fail(t);
                } finally {
                    vertx.cancelTimer(timer);
                    running.decrementAndGet();
                    drain();
                    leave();
                }
            });
        } catch (RuntimeException rejected) {
            // the executor is shut down: this classifier is being unloaded
            vertx.cancelTimer(timer);
            running.decrementAndGet();
            leave();
            waiter.fail(GatewayException.saturated(name + " is shutting down"));
        }
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "mlserver-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Refusal by a bulkhead that has retired and drained; the route re-resolves its classifier. */
    public static final class Retired extends GatewayException {
        Retired(String name) {
            super(dev.mlserver.gateway.ErrorCode.DRAINING, name + " has been replaced; retry", 1, null);
        }
    }

    private static final class Waiter<T> {
        final Callable<T> task;
        final Context context;
        final long enqueued;
        final Promise<T> promise = Promise.promise();
        final AtomicInteger state = new AtomicInteger();
        volatile long queueTimer = -1;

        Waiter(Callable<T> task, Context context, long enqueued) {
            this.task = task;
            this.context = context;
            this.enqueued = enqueued;
        }

        /** Moves the waiter out of the queue exactly once: to run, or to be refused. */
        boolean claim() {
            return state.compareAndSet(0, 1);
        }

        void complete(T result) {
            context.runOnContext(v -> promise.tryComplete(result));
        }

        void fail(Throwable error) {
            context.runOnContext(v -> promise.tryFail(error));
        }
    }
}
