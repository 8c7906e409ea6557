package dev.mlserver.gateway.bulkhead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.Limits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Admission, queueing and timeouts of one classifier's bulkhead, with a real Vert.x. */
class BulkheadTest {
    Vertx vertx;
    final Recorder recorder = new Recorder();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    Bulkhead bulkhead(int concurrent, int queue, long queueTimeoutMs, long timeoutMs) {
        return Bulkhead.create("test", new Limits(concurrent, queue, queueTimeoutMs, timeoutMs, 64), vertx, recorder);
    }

    @Test
    void neverRunsMoreThanTheLimitAtOnce() {
        Bulkhead bulkhead = bulkhead(2, 10, 5_000, 5_000);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger now = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int n = i;
            results.add(bulkhead.submit(() -> {
                peak.accumulateAndGet(now.incrementAndGet(), Math::max);
                gate.await();
                now.decrementAndGet();
                return n;
            }));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> bulkhead.running() == 2 && bulkhead.queued() == 6);
        gate.countDown();
        for (int i = 0; i < 8; i++) {
            assertThat(get(results.get(i))).isEqualTo(i);
        }
        assertThat(peak.get()).isEqualTo(2);
        // a slot is given back just after its caller has the answer
        await().atMost(Duration.ofSeconds(30)).until(() -> bulkhead.running() == 0);
        assertThat(bulkhead.queued()).isZero();
    }

    @Test
    void aFullQueueRefusesAtOnceAsSaturated() {
        Bulkhead bulkhead = bulkhead(1, 1, 5_000, 5_000);
        CountDownLatch gate = new CountDownLatch(1);
        Future<Object> running = bulkhead.submit(() -> gate.await(30, TimeUnit.SECONDS));
        Future<Object> waiting = bulkhead.submit(() -> "second");
        Future<Object> refused = bulkhead.submit(() -> "third");
        assertThat(refused.failed()).as("refused without waiting").isTrue();
        assertSaturated(refused.cause());
        assertThat(recorder.rejections).containsEntry(Bulkhead.QUEUE_FULL, 1);
        gate.countDown();
        assertThat(get(waiting)).isEqualTo("second");
        assertThat(get(running)).isEqualTo(true);
    }

    @Test
    void aWaiterPastTheQueueTimeoutIsRefusedAndNeverRuns() {
        // no wall-clock ceiling: the reference is a waiter with ten times the queue timeout,
        // queued at the same moment, which must be refused after this one
        Bulkhead bulkhead = bulkhead(1, 5, 150, 5_000);
        Bulkhead reference = bulkhead(1, 5, 1_500, 5_000);
        CountDownLatch gate = new CountDownLatch(1);
        bulkhead.submit(() -> gate.await(30, TimeUnit.SECONDS));
        reference.submit(() -> gate.await(30, TimeUnit.SECONDS));
        AtomicInteger ran = new AtomicInteger();
        List<String> refused = new CopyOnWriteArrayList<>();
        long t0 = System.nanoTime();
        Future<Integer> waiter = bulkhead.submit(ran::incrementAndGet);
        Future<Integer> tenTimesLonger = reference.submit(ran::incrementAndGet);
        waiter.onFailure(e -> refused.add("150 ms"));
        tenTimesLonger.onFailure(e -> refused.add("1500 ms"));
        Throwable failure = awaitFailure(waiter);
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
        assertSaturated(failure);
        assertThat(waitedMs).as("never refused before its 150 ms queue timeout").isGreaterThanOrEqualTo(140L);
        assertThat(bulkhead.queued()).isZero();
        assertSaturated(awaitFailure(tenTimesLonger));
        assertThat(refused).as("each refused on its own deadline, the shorter first").containsExactly("150 ms", "1500 ms");
        gate.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> bulkhead.running() == 0 && reference.running() == 0);
        assertThat(ran.get()).as("a refused waiter never runs").isZero();
        assertThat(recorder.rejections).containsEntry(Bulkhead.QUEUE_TIMEOUT, 2);
    }

    @Test
    void aTimedOutPredictionFailsAt504ButKeepsItsSlotUntilItReturns() {
        Bulkhead bulkhead = bulkhead(1, 5, 10_000, 100);
        CountDownLatch gate = new CountDownLatch(1);
        Future<Object> slow = bulkhead.submit(() -> gate.await(30, TimeUnit.SECONDS));
        Throwable failure = awaitFailure(slow);
        assertThat(failure).isInstanceOf(GatewayException.class);
        assertThat(((GatewayException) failure).code()).isEqualTo(ErrorCode.PREDICTION_TIMEOUT);
        assertThat(recorder.timeouts.sum()).isEqualTo(1);

        AtomicInteger started = new AtomicInteger();
        Future<Integer> next = bulkhead.submit(started::incrementAndGet);
        // the timed-out call still runs natively: its slot stays taken and the next one waits
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(30))
                .until(() -> bulkhead.running() == 1 && started.get() == 0 && bulkhead.queued() == 1);
        gate.countDown();
        assertThat(get(next)).isEqualTo(1);
    }

    @Test
    void timeoutsAreStillEnforcedAfterAnIdleSpell() throws InterruptedException {
        // the sweep that enforces timeouts stops when nothing runs or waits, and must start again
        Bulkhead bulkhead = bulkhead(1, 5, 10_000, 100);
        Bulkhead reference = bulkhead(1, 5, 10_000, 1_000);
        assertThat(get(bulkhead.submit(() -> 1))).isEqualTo(1);
        Thread.sleep(10 * Bulkhead.sweepMillis(bulkhead.limits()));
        CountDownLatch gate = new CountDownLatch(1);
        List<String> timedOut = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        Future<Object> afterIdle = bulkhead.submit(() -> gate.await(30, TimeUnit.SECONDS));
        Future<Object> tenTimesLonger = reference.submit(() -> gate.await(30, TimeUnit.SECONDS));
        afterIdle.onFailure(e -> timedOut.add("100 ms"));
        tenTimesLonger.onFailure(e -> timedOut.add("1000 ms"));
        Throwable failure = awaitFailure(afterIdle);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        awaitFailure(tenTimesLonger);
        gate.countDown();
        assertThat(((GatewayException) failure).code()).isEqualTo(ErrorCode.PREDICTION_TIMEOUT);
        assertThat(tookMs).as("never before its 100 ms timeout").isGreaterThanOrEqualTo(95L);
        // no wall-clock ceiling: it must come before that of a prediction with ten times the
        // timeout started at the same moment on a bulkhead that was never idle
        assertThat(timedOut).as("the idle bulkhead's sweep started again at once").containsExactly("100 ms", "1000 ms");
    }

    @Test
    void waitersRunOldestFirst() {
        Bulkhead bulkhead = bulkhead(1, 20, 10_000, 10_000);
        CountDownLatch gate = new CountDownLatch(1);
        bulkhead.submit(() -> gate.await(30, TimeUnit.SECONDS));
        List<Integer> order = new CopyOnWriteArrayList<>();
        List<Future<Boolean>> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int n = i;
            all.add(bulkhead.submit(() -> order.add(n)));
        }
        gate.countDown();
        all.forEach(f -> get(f));
        assertThat(order).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    }

    @Test
    void twoSubmissionsFromOneEventLoopRunSideBySide() throws Exception {
        Bulkhead bulkhead = bulkhead(2, 0, 1_000, 5_000);
        CountDownLatch both = new CountDownLatch(2);
        CompletableResult result = new CompletableResult();
        vertx.runOnContext(v -> {
            Future<Boolean> a = bulkhead.submit(() -> {
                both.countDown();
                return both.await(30, TimeUnit.SECONDS);
            });
            Future<Boolean> b = bulkhead.submit(() -> {
                both.countDown();
                return both.await(30, TimeUnit.SECONDS);
            });
            Future.all(a, b).onComplete(r -> result.set(r.succeeded() && a.result() && b.result()));
        });
        assertThat(result.get()).as("each task saw the other running").isTrue();
    }

    @Test
    void theFutureCompletesOnTheCallersEventLoop() throws Exception {
        Bulkhead bulkhead = bulkhead(1, 0, 1_000, 5_000);
        CompletableResult result = new CompletableResult();
        vertx.runOnContext(v -> {
            Thread loop = Thread.currentThread();
            bulkhead.submit(() -> Thread.currentThread() != loop)
                    .onComplete(r -> result.set(r.result() && Thread.currentThread() == loop));
        });
        assertThat(result.get()).as("ran off the loop, completed on it").isTrue();
    }

    @Test
    void closingRefusesWaitersAtOnceAndNewWork() {
        Bulkhead bulkhead = bulkhead(1, 5, 60_000, 60_000);
        CountDownLatch gate = new CountDownLatch(1);
        Future<Object> running = bulkhead.submit(() -> gate.await(30, TimeUnit.SECONDS));
        Future<String> waiting = bulkhead.submit(() -> "never");
        bulkhead.close();
        assertSaturated(awaitFailure(waiting));
        assertSaturated(bulkhead.submit(() -> "late").cause());
        gate.countDown();
        assertThat(get(running)).isEqualTo(true);
        assertThat(recorder.rejections).containsEntry(Bulkhead.SHUTTING_DOWN, 2);
    }

    @Test
    void underRacingSubmittersTheLimitHoldsAndEveryFutureCompletes() throws Exception {
        Bulkhead bulkhead = bulkhead(3, 8, 50, 5_000);
        AtomicInteger now = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        int submitters = 4;
        int each = 500;
        List<Future<Integer>> all = new CopyOnWriteArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(submitters);
        Random seed = new Random(7);
        for (int s = 0; s < submitters; s++) {
            long seedOfThread = seed.nextLong();
            threads.execute(() -> {
                Random random = new Random(seedOfThread);
                for (int i = 0; i < each; i++) {
                    int sleepMicros = random.nextInt(300);
                    all.add(bulkhead.submit(() -> {
                        peak.accumulateAndGet(now.incrementAndGet(), Math::max);
                        TimeUnit.MICROSECONDS.sleep(sleepMicros);
                        now.decrementAndGet();
                        return sleepMicros;
                    }));
                    if (random.nextInt(4) == 0) {
                        Thread.onSpinWait();
                    }
                }
            });
        }
        threads.shutdown();
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        int ok = 0;
        int saturated = 0;
        for (Future<Integer> f : all) {
            try {
                get(f);
                ok++;
            } catch (GatewayException e) {
                assertThat(e.code()).isEqualTo(ErrorCode.CLASSIFIER_SATURATED);
                saturated++;
            }
        }
        assertThat(ok + saturated).isEqualTo(submitters * each);
        assertThat(ok).isPositive();
        assertThat(peak.get()).isLessThanOrEqualTo(3);
        assertThat(bulkhead.running()).isZero();
        assertThat(bulkhead.queued()).isZero();
        assertThat(recorder.rejections.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(saturated);
    }

    static void assertSaturated(Throwable failure) {
        assertThat(failure).isInstanceOf(GatewayException.class);
        GatewayException e = (GatewayException) failure;
        assertThat(e.code()).isEqualTo(ErrorCode.CLASSIFIER_SATURATED);
        assertThat(e.retryAfterSeconds()).contains(1);
    }

    /** The future's value within 10 s; its failure rethrown as is. */
    static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new AssertionError(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Throwable awaitFailure(Future<?> future) {
        await().atMost(Duration.ofSeconds(30)).until(future::isComplete);
        assertThat(future.failed()).as("expected a failure").isTrue();
        return future.cause();
    }

    static final class Recorder implements Bulkhead.Listener {
        final Map<String, Integer> rejections = new ConcurrentHashMap<>();
        final LongAdder timeouts = new LongAdder();

        @Override
        public void rejected(String reason) {
            rejections.merge(reason, 1, Integer::sum);
        }

        @Override
        public void timedOut() {
            timeouts.increment();
        }
    }

    /** A boolean handed over from an event loop to the test thread. */
    static final class CompletableResult {
        private final java.util.concurrent.CompletableFuture<Boolean> value = new java.util.concurrent.CompletableFuture<>();

        void set(boolean v) {
            value.complete(v);
        }

        boolean get() throws Exception {
            return value.get(10, TimeUnit.SECONDS);
        }
    }
}
