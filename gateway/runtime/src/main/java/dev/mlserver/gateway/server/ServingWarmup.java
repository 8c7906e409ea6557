package dev.mlserver.gateway.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.config.GatewayConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives each classifier's real predict route over loopback, through the whole stack (HTTP
 * parsing, routing, auth, bulkhead, the model, metrics and response writing), so that the JIT
 * has compiled the serving path before readiness turns 200. Without it a pod that scales out
 * under load serves its first minute at a fraction of its capacity while the compiler competes
 * with the traffic for the cores.
 *
 * <p>Bounded two ways: {@code warmup.requests} per classifier and {@code warmup.max_ms} for the
 * whole warm-up (all classifiers are warmed at once, so a slow model is cut off by the time
 * limit without delaying the others). A classifier whose example is not answered 200 stops at
 * once; that is reported, never fatal.
 */
final class ServingWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(ServingWarmup.class);

    /** One classifier's route and the body its example gives. */
    record Target(String name, String path, Buffer body, int concurrency) {}

    /** What the warm-up did for one classifier. */
    record Outcome(String name, int answered, int failed, String stoppedBecause) {}

    private final Vertx vertx;
    private final int port;
    private final GatewayConfig.Warmup config;
    private final Map<String, String> headers;

    ServingWarmup(Vertx vertx, int port, GatewayConfig.Warmup config, Map<String, String> headers) {
        this.vertx = vertx;
        this.port = port;
        this.config = config;
        this.headers = Map.copyOf(headers);
    }

    /** The predict route of a classifier and a body of its example payload. */
    static Target target(String prefix, String name, JsonNode example, int maxConcurrent, int warmupConcurrency,
                         ObjectMapper mapper) {
        byte[] body;
        try {
            body = mapper.writeValueAsBytes(mapper.createObjectNode().set("payload", example));
        } catch (Exception e) {
            throw new IllegalArgumentException("example of " + name + " cannot be written", e);
        }
        return new Target(name, prefix + "/" + name + "/predict", Buffer.buffer(body),
                Math.max(1, Math.min(maxConcurrent, warmupConcurrency)));
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
        List<Future<Outcome>> all = new ArrayList<>();
        for (Target target : targets) {
            all.add(new Run(client, target, deadline).start());
        }
        return Future.join(all).transform(done -> {
            List<Outcome> outcomes = all.stream().map(Future::result).toList();
            return client.close().transform(closed -> Future.succeededFuture(outcomes));
        });
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
            sent.incrementAndGet();
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI(target.path())
                    .putHeader("Content-Type", "application/json");
            headers.forEach(options::putHeader);
            client.request(options)
                    .compose(request -> request.send(target.body()))
                    .compose(response -> response.body().map(body -> response.statusCode()))
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
            if (sent.get() >= config.requests()) {
                return "done";
            }
            if (System.nanoTime() >= deadline) {
                return "warmup.max_ms reached";
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
