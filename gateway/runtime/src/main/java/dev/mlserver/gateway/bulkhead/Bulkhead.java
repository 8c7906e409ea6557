package dev.mlserver.gateway.bulkhead;

import dev.mlserver.gateway.ErrorCode;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One classifier's share of the machine: at most {@code max_concurrent_predictions} run at once
 * on its own threads, at most {@code max_queue} wait, none waits longer than
 * {@code queue_timeout_ms}. Admission never blocks the caller, which is an event loop, and two
 * submissions from one context run side by side, not one after the other.
 *
 * <p>A prediction that overruns {@code timeout_ms} fails its caller at once, but keeps its slot
 * until the native call really returns, so the classifier never runs more than its limit.
 *
 * <p>When its classifier version is replaced or removed, the bulkhead {@link #retire retires}: work
 * already admitted (running or queued) runs to its end on the same threads; once none is left the
 * bulkhead admits nothing more and {@link #retire} completes.
 *
 * <p>Waiters are served oldest first; a newcomer only takes a free slot directly when nobody is
 * waiting. Every waiter leaves the queue exactly once, to run or to be refused ({@link Waiter#claim}).
 *
 * <p>Both timeouts are enforced by one periodic sweep per bulkhead, not by a timer per prediction
 * (setting and cancelling two Vert.x timers per request, often from a worker thread, cost more
 * than the model call of a small tabular model). The sweep runs every {@link #sweepMillis} ms
 * (an eighth of the shorter timeout, between 5 and 250 ms) while anything is running or waiting,
 * and stops when nothing is: so a timeout is answered at most that much after it has passed.
 */
public final class Bulkhead {
    /** Rejection reasons, as reported to the {@link Listener} and shown in metrics. */
    public static final String QUEUE_FULL = "queue_full";
    public static final String QUEUE_TIMEOUT = "queue_timeout";
    public static final String SHUTTING_DOWN = "shutting_down";

    private final String name;
    private final Limits limits;
    private final Vertx vertx;
    private final ExecutorService workers;
    private final AtomicInteger running = new AtomicInteger();
    /** The predictions holding a slot, each in its own cell, for the sweep to check their run time. */
    private final AtomicReferenceArray<Waiter<?>> slots;
    private final long sweepMillis;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private final AtomicInteger queued = new AtomicInteger();
    /** Slots held by predictions that overran {@code timeout_ms} and have not returned. */
    private final AtomicInteger overruns = new AtomicInteger();
    private final Queue<Waiter<?>> waiting = new ConcurrentLinkedQueue<>();
    private final Listener listener;
    private volatile boolean closed;
    /** Admitted predictions not yet finished (queued, running, or running past their timeout); {@link #RETIRED} once retired and idle. */
    private final AtomicInteger admitted = new AtomicInteger();
    private final CompletableFuture<Void> idle = new CompletableFuture<>();
    private volatile boolean retiring;

    private static final int RETIRED = Integer.MIN_VALUE;

    /** Told about each admission outcome; used for metrics. Called from any thread. */
    public interface Listener {
        Listener NONE = new Listener() {};

        /** A prediction got its slot after waiting {@code nanos} (about 0 when admitted at once). */
        default void queueWait(long nanos) {}

        /** A prediction was refused; {@code reason} is one of the constants of {@link Bulkhead}. */
        default void rejected(String reason) {}

        /** A running prediction overran {@code timeout_ms}; its caller got a 504. */
        default void timedOut() {}
    }

    private Bulkhead(String name, Limits limits, Vertx vertx, Listener listener) {
        this.name = name;
        this.limits = limits;
        this.vertx = vertx;
        this.listener = listener;
        this.workers = Executors.newFixedThreadPool(limits.maxConcurrentPredictions(), threads(name));
        this.slots = new AtomicReferenceArray<>(limits.maxConcurrentPredictions());
        this.sweepMillis = sweepMillis(limits);
    }

    /** How often timeouts are checked: an eighth of the shorter timeout, between 5 and 250 ms. */
    static long sweepMillis(Limits limits) {
        return Math.max(5, Math.min(250, Math.min(limits.timeoutMs(), limits.queueTimeoutMs()) / 8));
    }

    public static Bulkhead create(String name, Limits limits, Vertx vertx, Listener listener) {
        return new Bulkhead(name, limits, vertx, listener);
    }

    public Limits limits() {
        return limits;
    }

    /** Predictions holding a slot now, including timed-out ones whose native call has not returned. */
    public int running() {
        return running.get();
    }

    /** Slots held now by predictions that overran {@code timeout_ms} and have not returned. */
    public int overrunning() {
        return overruns.get();
    }

    /**
     * True when every slot is held by a prediction that overran {@code timeout_ms}: nothing
     * admitted can run until one of them returns, so the classifier is not ready.
     */
    public boolean stuck() {
        return overruns.get() >= limits.maxConcurrentPredictions();
    }

    /** Predictions waiting for a slot now. */
    public int queued() {
        return queued.get();
    }

    /**
     * Runs {@code task} on this classifier's threads when a slot is free. The future completes on
     * the caller's context: with the task's result, its exception, a {@code classifier_saturated}
     * failure when the queue is full, the wait too long or the bulkhead closed, or a
     * {@code prediction_timeout}. A bulkhead that has retired and drained fails with
     * {@link Retired} (503 {@code draining}), synchronously; routing never gets there, since a
     * request holds its classifier version until its response has ended and a version retires
     * its bulkhead only after that.
     */
    public <T> Future<T> submit(Callable<T> task) {
        if (!enter()) {
            return Future.failedFuture(new Retired(name));
        }
        if (closed) {
            leave();
            return refuse(SHUTTING_DOWN, name + " is shutting down");
        }
        Context context = vertx.getOrCreateContext();
        Waiter<T> waiter = new Waiter<>(task, context, System.nanoTime());
        if (waiting.isEmpty() && tryAcquire()) {
            waiter.claim();
            start(waiter);
            return waiter.promise.future();
        }
        if (queued.incrementAndGet() > limits.maxQueue()) {
            queued.decrementAndGet();
            leave();
            return refuse(QUEUE_FULL, name + " is saturated: " + limits.maxConcurrentPredictions()
                    + " running and " + limits.maxQueue() + " waiting");
        }
        waiting.add(waiter);
        sweep();
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

    /**
     * Takes no more work: waiters are refused at once, running predictions go on. The worker
     * threads stop once those return.
     */
    public void close() {
        closed = true;
        workers.shutdown();
        for (Waiter<?> w; (w = waiting.poll()) != null; ) {
            if (w.claim()) {
                queued.decrementAndGet();
                leave();
                listener.rejected(SHUTTING_DOWN);
                w.fail(GatewayException.saturated(name + " is shutting down"));
            }
        }
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

    /**
     * Gives up on the predictions still running: waiters are refused, the worker threads are
     * interrupted and left to end on their own. Returns how many were still running.
     */
    public int abandon() {
        close();
        workers.shutdownNow();
        return running.get();
    }

    private <T> Future<T> refuse(String reason, String message) {
        listener.rejected(reason);
        return Future.failedFuture(GatewayException.saturated(message));
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

    /** Hands free slots to waiters, oldest first. Called after every enqueue and every release. */
    private void drain() {
        while (!waiting.isEmpty() && tryAcquire()) {
            Waiter<?> next = waiting.poll();
            if (next != null && next.claim()) {
                queued.decrementAndGet();
                start(next);
            } else {
                // another thread took the waiter, or its queue timeout did: give the slot back
                running.decrementAndGet();
            }
        }
    }

    /** Runs a waiter that holds a slot; the slot is released when the task returns, not before. */
    private <T> void start(Waiter<T> waiter) {
        waiter.started = System.nanoTime();
        listener.queueWait(waiter.started - waiter.enqueued);
        // a slot holder always finds a free cell: a cell is emptied before its slot is given back
        for (int i = 0; waiter.cell < 0; i = (i + 1) % slots.length()) {
            if (slots.compareAndSet(i, null, waiter)) {
                waiter.cell = i;
            }
        }
        sweep();
        try {
            workers.execute(() -> {
                try {
                    waiter.complete(waiter.task.call());
                } catch (Throwable t) {
                    waiter.fail(t);
                } finally {
                    release(waiter);
                }
            });
        } catch (RejectedExecutionException shutDown) {
            listener.rejected(SHUTTING_DOWN);
            waiter.fail(GatewayException.saturated(name + " is shutting down"));
            release(waiter);
        }
    }

    /** A prediction has returned (or could not start): its slot and its admission end. */
    private void release(Waiter<?> waiter) {
        if (waiter.run.getAndSet(Waiter.RETURNED) == Waiter.OVERRAN) {
            overruns.decrementAndGet();
        }
        slots.set(waiter.cell, null);
        running.decrementAndGet();
        drain();
        leave();
    }

    /** Makes sure the sweep runs: called whenever a prediction starts or a waiter is queued. */
    private void sweep() {
        if (!sweeping.get() && sweeping.compareAndSet(false, true)) {
            vertx.setPeriodic(sweepMillis, this::sweep);
        }
    }

    /**
     * One sweep: fails running predictions past {@code timeout_ms} (their slots stay taken until
     * they return) and refuses waiters past {@code queue_timeout_ms}, oldest first. Stops itself
     * once nothing runs or waits, and starts again if something came in meanwhile.
     */
    private void sweep(long timerId) {
        long now = System.nanoTime();
        long runLimit = TimeUnit.MILLISECONDS.toNanos(limits.timeoutMs());
        for (int i = 0; i < slots.length(); i++) {
            Waiter<?> w = slots.get(i);
            // counted as an overrun before its caller hears of the timeout (release() uncounts it)
            if (w != null && now - w.started >= runLimit && w.run.compareAndSet(Waiter.RUNNING, Waiter.OVERRAN)) {
                overruns.incrementAndGet();
                if (w.fail(GatewayException.timeout(limits.timeoutMs()))) {
                    listener.timedOut();
                }
            }
        }
        long queueLimit = TimeUnit.MILLISECONDS.toNanos(limits.queueTimeoutMs());
        // waiters are queued in arrival order and share one timeout: only the head can be due
        for (Waiter<?> w; (w = waiting.peek()) != null && now - w.enqueued >= queueLimit; ) {
            if (w.claim()) {
                waiting.remove(w);
                queued.decrementAndGet();
                leave();
                listener.rejected(QUEUE_TIMEOUT);
                w.fail(GatewayException.saturated(name + " is saturated: no slot within " + limits.queueTimeoutMs() + " ms"));
            } else {
                // taken by drain() or close() between peek and claim: they remove it themselves
                waiting.remove(w);
            }
        }
        if (running.get() == 0 && queued.get() == 0) {
            vertx.cancelTimer(timerId);
            sweeping.set(false);
            if (running.get() > 0 || queued.get() > 0) {
                sweep();
            }
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

    private static final class Waiter<T> {
        final Callable<T> task;
        final Context context;
        final long enqueued;
        final Promise<T> promise = Promise.promise();
        final AtomicInteger state = new AtomicInteger();
        final AtomicInteger outcome = new AtomicInteger();
        /** When it got its slot, and which cell of {@link #slots} it holds; -1 before. */
        volatile long started;
        volatile int cell = -1;
        static final int RUNNING = 0;
        static final int OVERRAN = 1;
        static final int RETURNED = 2;
        /** RUNNING, then OVERRAN when failed by its timeout (its slot counts in {@link #overruns}), then RETURNED. */
        final AtomicInteger run = new AtomicInteger(RUNNING);

        Waiter(Callable<T> task, Context context, long enqueued) {
            this.task = task;
            this.context = context;
            this.enqueued = enqueued;
        }

        /** Moves the waiter out of the queue exactly once: to run, or to be refused. */
        boolean claim() {
            return state.compareAndSet(0, 1);
        }

        /** Completes the caller's future, on its context, unless it already has an outcome; true when this one won. */
        boolean complete(T result) {
            if (!outcome.compareAndSet(0, 1)) {
                return false;
            }
            context.runOnContext(v -> promise.complete(result));
            return true;
        }

        boolean fail(Throwable error) {
            if (!outcome.compareAndSet(0, 1)) {
                return false;
            }
            context.runOnContext(v -> promise.fail(error));
            return true;
        }
    }

    /** The failure of {@link #submit} on a bulkhead that has retired and drained: 503 {@code draining}, retry. */
    public static final class Retired extends GatewayException {
        Retired(String name) {
            super(ErrorCode.DRAINING, name + " has been replaced; retry", 1, null);
        }
    }
}
