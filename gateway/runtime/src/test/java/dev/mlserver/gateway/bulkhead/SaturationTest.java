package dev.mlserver.gateway.bulkhead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulkheads over HTTP: a deliberately slow classifier ({@code slow}, 100 ms a prediction) is
 * saturated while the real iris classifier serves beside it, with
 * {@code MAX_CONCURRENT_PREDICTIONS=1} for every classifier.
 */
class SaturationTest {
    static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";
    static final String SLOW = "{\"payload\": {\"x\": 1}}";

    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        PluginJars.plugin("slow").classifier(FixtureClassifier.class)
                .yaml("sleep_ms: 100\nlimits:\n  max_queue: 4\n  queue_timeout_ms: 5000\n")
                .writeTo(plugins, "slow.jar");
        gateway = TestGateway.start(plugins, "", Map.of("MAX_CONCURRENT_PREDICTIONS", "1"));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void aBurstOf64GivesOnly200sAnd503sWithRetryAfterWhileAnotherClassifierAnswers200() throws Exception {
        assertThat(TestGateway.json(gateway.get("/slow")).path("limits").path("max_concurrent_predictions").asInt()).isEqualTo(1);
        double rejectedBefore = metric("mlserver_rejections_total{classifier=\"slow\",reason=\"queue_full\",version=\"1.0.0\"}");
        AtomicBoolean bursting = new AtomicBoolean(true);
        List<Integer> irisStatuses = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> iris = CompletableFuture.runAsync(() -> {
            while (bursting.get() || irisStatuses.size() < 20) {
                irisStatuses.add(gateway.post("/iris/predict", IRIS).statusCode());
            }
        });
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            burst.add(gateway.client().sendAsync(post("/slow/predict", SLOW), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(burst.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        bursting.set(false);
        iris.get(60, TimeUnit.SECONDS);

        Map<Integer, Integer> byStatus = new ConcurrentHashMap<>();
        for (CompletableFuture<HttpResponse<String>> f : burst) {
            HttpResponse<String> r = f.get();
            byStatus.merge(r.statusCode(), 1, Integer::sum);
            if (r.statusCode() == 503) {
                assertThat(r.headers().firstValue("Retry-After")).as("Retry-After on every 503").contains("1");
                JsonNode error = TestGateway.json(r).path("error");
                assertThat(error.path("code").asText()).isEqualTo("classifier_saturated");
            }
        }
        assertThat(byStatus.keySet()).as("statuses " + byStatus).containsOnly(200, 503);
        // one running and four queued fit; the queue drains in about 0.5 s, far under its 5 s timeout
        assertThat(byStatus.get(200)).as("statuses " + byStatus).isBetween(5, 63);
        assertThat(byStatus.get(503)).as("statuses " + byStatus).isPositive();
        assertThat(irisStatuses).as("iris during the burst").isNotEmpty().containsOnly(200);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                metric("mlserver_rejections_total{classifier=\"slow\",reason=\"queue_full\",version=\"1.0.0\"}"))
                .isEqualTo(rejectedBefore + byStatus.get(503)));
    }

    /**
     * Isolation, with the bound stated against a baseline measured in the same test: iris is
     * timed while 16 clients keep the gateway busy with requests it answers at once
     * ({@code GET /slow}, the baseline) and while the same 16 clients keep the slow classifier
     * saturated (every request a 200 or a 503, immediately retried). The two loads alternate in
     * rounds so that whatever else runs on the machine weighs on both alike. Under saturation iris
     * answers every request with a 200, and its median and 90th percentile stay within 3x the
     * baseline's. The slow classifier sleeps rather than computes, so what iris competes with is
     * the gateway's own admission and rejection work on the shared event loops and cores.
     */
    @Test
    void aSaturatedClassifierDoesNotRaiseAnotherOnesErrorsOrLatencyBeyondTheBound() throws Exception {
        for (int i = 0; i < 200; i++) {
            gateway.post("/iris/predict", IRIS);
        }
        Map<Integer, Integer> slowStatuses = new ConcurrentHashMap<>();
        List<Long> baseline = new ArrayList<>();
        List<Long> saturated = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            baseline.addAll(underLoad(() -> gateway.get("/slow").statusCode(), new ConcurrentHashMap<>()));
            saturated.addAll(underLoad(() -> gateway.post("/slow/predict", SLOW).statusCode(), slowStatuses));
        }
        String report = "iris median / p90 with 16 clients on GET /slow " + percentile(baseline, 50) / 1000 + " / "
                + percentile(baseline, 90) / 1000 + " us; with the slow classifier saturated " + percentile(saturated, 50) / 1000
                + " / " + percentile(saturated, 90) / 1000 + " us; slow classifier statuses " + slowStatuses;
        System.out.println(report);
        assertThat(slowStatuses.keySet()).as(report).containsOnly(200, 503);
        assertThat(slowStatuses.getOrDefault(503, 0)).as(report).isPositive();
        assertThat(percentile(saturated, 50)).as(report).isLessThanOrEqualTo(3 * percentile(baseline, 50));
        assertThat(percentile(saturated, 90)).as(report).isLessThanOrEqualTo(3 * percentile(baseline, 90));
    }

    /** Iris latencies of 50 sequential predictions while 16 clients send {@code request} in a loop. */
    static List<Long> underLoad(IntSupplier request, Map<Integer, Integer> statuses) throws Exception {
        AtomicBoolean loading = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(16);
        for (int i = 0; i < 16; i++) {
            load.execute(() -> {
                while (loading.get()) {
                    statuses.merge(request.getAsInt(), 1, Integer::sum);
                }
            });
        }
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> statuses.values().stream().mapToInt(Integer::intValue).sum() > 50);
            return irisLatencies(50);
        } finally {
            loading.set(false);
            load.shutdown();
            assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Latencies in nanoseconds of {@code n} sequential iris predictions, each asserted 200. */
    static List<Long> irisLatencies(int n) {
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = gateway.post("/iris/predict", IRIS);
            latencies.add(System.nanoTime() - t0);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        return latencies;
    }

    static long percentile(List<Long> values, int percent) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, sorted.size() * percent / 100));
    }

    static HttpRequest post(String path, String json) {
        return HttpRequest.newBuilder(gateway.uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    static double metric(String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(gateway.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
