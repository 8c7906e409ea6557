package dev.mlserver.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /metrics} of a gateway serving the real iris plugin and a fixture classifier. */
class MetricsTest {
    static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        PluginJars.plugin("fixture").version("2.1.0").classifier(FixtureClassifier.class)
                .manifest("Git-Tag", "fixture-v2.1.0").writeTo(plugins, "fixture.jar");
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void everyServedClassifierHasAVersionInfoSeriesSetToOne() {
        String metrics = gateway.get("/metrics").body();
        assertThat(metrics).contains("# TYPE mlserver_classifier_version_info gauge");
        assertThat(metrics).containsPattern(Pattern.compile(
                "(?m)^mlserver_classifier_version_info\\{classifier=\"fixture\",git_tag=\"fixture-v2.1.0\","
                        + "repository=\"fixtures\",version=\"2.1.0\"} 1$"));
        assertThat(metrics).containsPattern(Pattern.compile(
                "(?m)^mlserver_classifier_version_info\\{classifier=\"iris\",git_tag=\"[^\"]*\",repository=\"[^\"]+\",version=\"1.0.0\"} 1$"));
    }

    @Test
    void passesPromtoolCheckMetrics() throws Exception {
        assumeTrue(onPath("promtool"), "promtool is not installed (Debian package prometheus)");
        gateway.post("/iris/predict", IRIS);
        gateway.post("/fixture/predict", "{\"payload\": {\"x\": 1}}");
        gateway.post("/fixture/predict", "{\"payload\": {\"x\": \"no\"}}");
        String metrics = gateway.get("/metrics").body();
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(metrics.getBytes(StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(promtool.exitValue()).as(output).isZero();
    }

    @Test
    void requestsAreCountedByClassifierVersionRouteAndStatus() {
        double ok = value("mlserver_requests_total{classifier=\"fixture\",route=\"predict_proba\",status=\"200\",version=\"2.1.0\"}");
        double bad = value("mlserver_requests_total{classifier=\"fixture\",route=\"predict_proba\",status=\"400\",version=\"2.1.0\"}");
        gateway.post("/fixture/predict_proba", "{\"payload\": {\"x\": 1}}");
        gateway.post("/fixture/predict_proba", "{\"payload\": {\"x\": -1}}");
        gateway.post("/fixture/predict_proba", "{\"payload\": {\"x\": \"not a number\"}}");
        // recorded when the response has been written, so just after the client has it
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(value("mlserver_requests_total{classifier=\"fixture\",route=\"predict_proba\",status=\"200\",version=\"2.1.0\"}"))
                    .isEqualTo(ok + 2);
            assertThat(value("mlserver_requests_total{classifier=\"fixture\",route=\"predict_proba\",status=\"400\",version=\"2.1.0\"}"))
                    .isEqualTo(bad + 1);
        });
    }

    @Test
    void latencyHistogramHasSubMillisecondToSecondsBuckets() {
        gateway.post("/iris/predict", IRIS);
        String metrics = gateway.get("/metrics").body();
        for (String le : new String[] {"2.5E-4", "0.001", "0.1", "1.0", "10.0", "+Inf"}) {
            assertThat(metrics).contains("mlserver_request_duration_seconds_bucket{classifier=\"iris\",route=\"predict\","
                    + "version=\"1.0.0\",le=\"" + le + "\"}");
        }
    }

    @Test
    void bulkheadGaugesAndJvmAndHttpServerMetricsAreExposed() {
        String metrics = gateway.get("/metrics").body();
        assertThat(metrics).contains("mlserver_in_flight{classifier=\"iris\",version=\"1.0.0\"}",
                "mlserver_queued{classifier=\"iris\",version=\"1.0.0\"}",
                "mlserver_rejections_total{classifier=\"iris\",reason=\"queue_full\",version=\"1.0.0\"}",
                "mlserver_queue_wait_seconds_bucket{classifier=\"iris\"",
                "mlserver_plugin_loads_total{result=\"success\"}",
                "jvm_memory_used_bytes", "process_cpu_seconds_total", "vertx_http_server_requests_total");
    }

    @Test
    void httpServerRequestsAreCountedOnceByMethodAndCodeAndLeaveNoneActive() {
        String ok = "vertx_http_server_requests_total{code=\"200\",method=\"POST\"}";
        String notFound = "vertx_http_server_requests_total{code=\"404\",method=\"POST\"}";
        String time = "vertx_http_server_response_time_seconds_count{code=\"200\",method=\"POST\"}";
        double okBefore = value(ok);
        double notFoundBefore = value(notFound);
        double timeBefore = value(time);
        for (int i = 0; i < 3; i++) {
            gateway.post("/iris/predict", IRIS);
        }
        gateway.post("/no-such-classifier/predict", IRIS);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(value(ok)).isEqualTo(okBefore + 3);
            assertThat(value(notFound)).isEqualTo(notFoundBefore + 1);
            assertThat(value(time)).isEqualTo(timeBefore + 3);
            assertThat(value("vertx_http_server_active_requests{method=\"POST\"}")).isZero();
        });
        assertThat(value("vertx_http_server_request_bytes_sum{method=\"POST\"}")).isPositive();
        assertThat(value("vertx_http_server_response_bytes_sum{code=\"200\",method=\"POST\"}")).isPositive();
    }

    @Test
    void requestsToUnknownPathsMethodsAndClassifiersCreateNoSeries() {
        // one of each kind first: the status codes they produce may add their (bounded) series once
        unknownRequests("warmup");
        // JVM series come and go with the JVM (a buffer pool appears when first used): not ours to pin
        Set<String> before = requestSeries();
        for (int i = 0; i < 20; i++) {
            unknownRequests("probe" + i);
        }
        Set<String> after = requestSeries();
        assertThat(after).isEqualTo(before);
        assertThat(after).noneMatch(s -> s.contains("probe"));
    }

    private void unknownRequests(String token) {
        gateway.get("/" + token);
        gateway.get("/" + token + "/predict/deeper");
        gateway.post("/" + token + "/predict", IRIS);
        gateway.get("/" + token + "/ready");
        gateway.send(HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                .method(token.toUpperCase(), HttpRequest.BodyPublishers.noBody()).build());
    }

    /** Every series but the JVM's: what requests could add. */
    static Set<String> requestSeries() {
        return series().stream().filter(s -> !s.startsWith("jvm_") && !s.startsWith("process_") && !s.startsWith("system_"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every series of the exposition: name and labels, without values. */
    static Set<String> series() {
        return Arrays.stream(gateway.get("/metrics").body().split("\n"))
                .filter(l -> !l.startsWith("#") && !l.isBlank())
                .map(l -> l.substring(0, l.lastIndexOf(' ')))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The value of one series, 0 when it does not exist yet. */
    static double value(String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(gateway.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    }
}
