package dev.mlserver.gateway.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Limits;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives each classifier's real predict route over loopback, through the whole stack (HTTP
 * parsing, routing, auth, bulkhead, the model, metrics, the access log's encoding and response
 * writing), so that the JIT has compiled the serving path before readiness turns 200. Without it
 * a pod that scales out under load serves its first minute at a fraction of its capacity while
 * the compiler competes with the traffic for the cores.
 *
 * <p>The traffic is shaped like a client's, because code compiled for other traffic is thrown
 * away and compiled again when real traffic takes a branch the warm-up never took: some requests
 * wait in the bulkhead's queue (twice its slots in flight), bodies come compact and
 * pretty-printed, some requests carry more headers, and connections are closed and opened again.
 *
 * <p>Each classifier gets at least {@code warmup.requests} predictions. With
 * {@code warmup.until_jit_quiet} (the default) all of them then go on until the JIT compiler has
 * spent less than {@link #QUIET_SHARE} of a {@link #QUIET_WINDOW_MS} ms window compiling: the
 * serving path is compiled, whatever the machine's speed. {@code warmup.max_ms} bounds the whole
 * warm-up; all classifiers are warmed at once, so a slow model is cut off by the time limit
 * without delaying the others. A classifier whose example is not answered 200 stops at once; that
 * is reported, never fatal.
 */
final class ServingWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(ServingWarmup.class);
    /** The window over which the compiler's activity is judged. */
    static final long QUIET_WINDOW_MS = 2000;
    /** The JIT is quiet once it has compiled for less than this share of the window. */
    static final double QUIET_SHARE = 0.05;
    /** How often the compiler's total time is sampled. */
    static final long SAMPLE_MS = 250;
    /** One request in so many on a connection asks for it to be closed, so that closing is warmed too. */
    static final int CLOSE_EVERY = 500;

    /** One classifier's route, bodies of its example, and how many requests it gets in flight. */
    record Target(String name, String path, List<Buffer> bodies, int concurrency) {}

    /** What the warm-up did for one classifier. */
    record Outcome(String name, int answered, int failed, String stoppedBecause) {}

    private final Vertx vertx;
    private final int port;
    private final GatewayConfig.Warmup config;
    private final Map<String, String> headers;
    private final LongSupplier compileMillis;

    ServingWarmup(Vertx vertx, int port, GatewayConfig.Warmup config, Map<String, String> headers) {
        this(vertx, port, config, headers, jitMillis());
    }

    /** @param compileMillis the compiler's total time so far, in ms; null when the JVM does not tell */
    ServingWarmup(Vertx vertx, int port, GatewayConfig.Warmup config, Map<String, String> headers,
                  LongSupplier compileMillis) {
        this.vertx = vertx;
        this.port = port;
        this.config = config;
        this.headers = Map.copyOf(headers);
        this.compileMillis = compileMillis;
    }

    private static LongSupplier jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime : null;
    }

    /**
     * The predict route of a classifier, its example as a compact and as a pretty-printed body, and
     * its share of requests in flight: at most twice its prediction slots, so that some wait in its
     * queue as under load, and never more than slots and queue hold.
     */
    static Target target(String prefix, String name, JsonNode example, Limits limits, int warmupConcurrency,
                         ObjectMapper mapper) {
        List<Buffer> bodies;
        try {
            JsonNode body = mapper.createObjectNode().set("payload", example);
            bodies = List.of(Buffer.buffer(mapper.writeValueAsBytes(body)),
                    Buffer.buffer(mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(body)));
        } catch (Exception e) {
            throw new IllegalArgumentException("example of " + name + " cannot be written", e);
        }
        int slots = limits.maxConcurrentPredictions();
        int inFlight = Math.min(warmupConcurrency, Math.min(2 * slots, slots + limits.maxQueue()));
        return new Target(name, prefix + "/" + name + "/predict", bodies, Math.max(1, inFlight));
    }

    /** Warms every target at once; completes (never fails) when all have stopped. */
    Future<List<Outcome>> run(List<Target> targets) {
        if (targets.isEmpty() || !config.enabled()) {
            return Future.succeededFuture(List.of());
        }
        int connections = targets.stream().mapToInt(Target::concurrency).sum();
        HttpClient client = vertx.createHttpClient(new HttpClientOptions()
                        .setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(connections));
        long deadline = System.nanoTime() + config.maxMs() * 1_000_000L;
        List<Run> runs = targets.stream().map(target -> new Run(client, target, deadline)).toList();
        JitWatch jit = new JitWatch(runs);
        List<Future<Outcome>> all = runs.stream().map(Run::start).toList();
        return Future.join(all).transform(done -> {
            jit.stop();
            List<Outcome> outcomes = all.stream().map(Future::result).toList();
            return client.close().transform(closed -> Future.succeededFuture(outcomes));
        });
    }

    /**
     * Samples the compiler's total time, and tells the runs to stop once each has had its
     * {@code warmup.requests} and the compiler has gone quiet.
     */
    private final class JitWatch {
        private final List<Run> runs;
        /** (ms, compiler ms) pairs, oldest first, reaching just over one window back */
        private final List<long[]> samples = new ArrayList<>();
        private final long timer;
        private volatile boolean quiet;

        JitWatch(List<Run> runs) {
            this.runs = runs;
            if (!config.untilJitQuiet() || compileMillis == null) {
                quiet = true;
                timer = -1;
                if (config.untilJitQuiet()) {
                    LOG.info("warm-up: this JVM does not report its compiler's time; each classifier gets warmup.requests");
                }
            } else {
                sample();
                timer = vertx.setPeriodic(SAMPLE_MS, id -> sample());
            }
            runs.forEach(run -> run.jit = this);
        }

        private void sample() {
            long now = System.nanoTime() / 1_000_000;
            long compiled = compileMillis.getAsLong();
            samples.add(new long[] {now, compiled});
            while (samples.size() > 1 && now - samples.get(1)[0] >= QUIET_WINDOW_MS) {
                samples.remove(0);
            }
            long[] first = samples.get(0);
            if (now - first[0] >= QUIET_WINDOW_MS && compiled - first[1] < QUIET_SHARE * (now - first[0])
                    && runs.stream().allMatch(Run::hadItsRequests)) {
                quiet = true;
                stop();
            }
        }

        boolean quiet() {
            return quiet;
        }

        void stop() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
        }
    }

    /** One classifier's warm-up: {@code concurrency} request loops sharing one count. */
    private final class Run {
        private final HttpClient client;
        private final Target target;
        private final long deadline;
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicInteger answered = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        private final AtomicInteger loops = new AtomicInteger();
        private final Promise<Outcome> done = Promise.promise();
        private volatile String stop;
        private volatile JitWatch jit;

        Run(HttpClient client, Target target, long deadline) {
            this.client = client;
            this.target = target;
            this.deadline = deadline;
        }

        Future<Outcome> start() {
            loops.set(target.concurrency());
            for (int i = 0; i < target.concurrency(); i++) {
                next();
            }
            return done.future();
        }

        /** Whether this classifier has had its {@code warmup.requests}, or has stopped. */
        boolean hadItsRequests() {
            return stop != null || sent.get() >= config.requests();
        }

        private void next() {
            String reason = stopReason();
            if (reason != null) {
                if (stop == null) {
                    stop = reason;
                }
                if (loops.decrementAndGet() == 0) {
                    done.complete(new Outcome(target.name(), answered.get(), failed.get(), stop));
                }
                return;
            }
            int n = sent.getAndIncrement();
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI(target.path())
                    .putHeader("Content-Type", "application/json");
            headers.forEach(options::putHeader);
            if (n % 2 == 1) {
                options.putHeader("Accept", "application/json").putHeader("User-Agent", "mlserver-warmup");
            }
            if (n % CLOSE_EVERY == CLOSE_EVERY - 1) {
                options.putHeader("Connection", "close");
            }
            Buffer body = target.bodies().get(n % target.bodies().size());
            client.request(options)
                    .compose(request -> request.send(body))
                    .compose(response -> response.body().map(b -> response.statusCode()))
                    .onComplete(result -> {
                        if (result.succeeded() && result.result() == 200) {
                            answered.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                            if (stop == null) {
                                stop = result.succeeded() ? "answered " + result.result() : result.cause().toString();
                            }
                        }
                        next();
                    });
        }

        private String stopReason() {
            if (stop != null) {
                return stop;
            }
            if (System.nanoTime() >= deadline) {
                return "warmup.max_ms reached";
            }
            if (sent.get() >= config.requests() && jit.quiet()) {
                return config.untilJitQuiet() && compileMillis != null ? "JIT quiet" : "done";
            }
            return null;
        }
    }

    static void log(List<Outcome> outcomes, long tookMillis) {
        if (outcomes.isEmpty()) {
            return;
        }
        LOG.info("serving path warmed in {} ms: {}", tookMillis, outcomes.stream()
                .map(o -> o.name() + " " + o.answered() + " (" + o.stoppedBecause() + ")").toList());
        outcomes.stream().filter(o -> o.failed() > 0).forEach(o -> LOG.warn(
                "warm-up of {}: {} request(s) not answered 200 ({}); it serves regardless", o.name(), o.failed(), o.stoppedBecause()));
    }
}
