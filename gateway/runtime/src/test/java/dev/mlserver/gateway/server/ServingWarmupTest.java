package dev.mlserver.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Limits;
import dev.mlserver.gateway.metrics.WarmupMark;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.JdkHttp;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.Inference;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The serving path is driven through the real predict routes before readiness turns 200. */
class ServingWarmupTest {
    @TempDir
    Path plugins;

    @Test
    void everyClassifiersPredictRouteIsDrivenThroughTheWholeStackBeforeReadiness() throws IOException {
        TestGateway.copyExamples(plugins, "iris", "wine");
        try (TestGateway gateway = TestGateway.start(plugins, exactly(300))) {
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            String metrics = gateway.get("/metrics").body();
            // 300 on the predict route, 300 on the Open Inference Protocol's REST infer route and 300
            // ModelInfer calls on its gRPC port, all answered 200
            assertThat(warmed(metrics, "iris")).isEqualTo(900);
            assertThat(warmed(metrics, "wine")).isEqualTo(900);
            // the warm-up is counted apart: the request counters and the access log start from the first client
            assertThat(counted(metrics, "iris")).isZero();
            assertThat(answered(metrics, "mlserver_requests_total", "iris", "protocol=\"v2-rest\"")).isZero();
            assertThat(answered(metrics, "mlserver_requests_total", "iris", "protocol=\"v2-grpc\"")).isZero();
            assertThat(serverPosts(metrics)).isZero();
            assertThat(gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}").statusCode()).isEqualTo(200);
            // counted when the response has ended, which can be just after the client has it
            await().atMost(Duration.ofSeconds(10)).until(() -> counted(gateway.get("/metrics").body(), "iris") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> serverPosts(gateway.get("/metrics").body()) == 1);
            // a client cannot pass for the warm-up: the header's value is drawn per process
            assertThat(gateway.send(java.net.http.HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                    .header("Content-Type", "application/json").header("X-Mlserver-Warmup", "1")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"payload\": [5.1, 3.5, 1.4, 0.2]}")).build())
                    .statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> counted(gateway.get("/metrics").body(), "iris") == 2);
        }
    }

    @Test
    void withTokensOnTheWarmUpSendsItsOwnTokenWhichPassesOnlyWhileItRuns() throws IOException {
        TestGateway.copyExamples(plugins, "iris");
        String clientToken = "client-token-for-the-warm-up-test";
        try (TestGateway gateway = TestGateway.start(plugins, """
                security:
                  tokens:
                    everything:
                      token_env: TOKEN_ALL
                      classifiers: ["*"]
                  open_metrics: true
                """ + exactly(100), Map.of("TOKEN_ALL", clientToken))) {
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            String metrics = gateway.get("/metrics").body();
            // the gRPC calls carry the token in their authorization metadata
            assertThat(warmed(metrics, "iris")).isEqualTo(300);
            assertThat(metrics).doesNotContainPattern("(?m)^mlserver_auth_rejections_total\\{[^}]*} [1-9]");
            String body = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";
            // once the warm-up has ended its token is refused, the client's own passes
            assertThat(predict(gateway, WarmupMark.headers(true).get("Authorization"), body).statusCode()).isEqualTo(401);
            assertThat(predict(gateway, "Bearer " + clientToken, body).statusCode()).isEqualTo(200);
        }
    }

    /** A warm-up of exactly {@code requests} per classifier, four at a time. */
    private static String exactly(int requests) {
        return """
                warmup:
                  requests: %d
                  until_jit_quiet: false
                  max_ms: 120000
                  concurrency: 4
                """.formatted(requests);
    }

    private static java.net.http.HttpResponse<String> predict(TestGateway gateway, String authorization, String body) {
        return gateway.send(java.net.http.HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                .header("Content-Type", "application/json").header("Authorization", authorization)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void readinessSaysWarmingUntilTheWarmUpEndsAndASlowModelIsCutOffByTheTimeLimit() throws IOException {
        PluginJars.plugin("slow").classifier(FixtureClassifier.class)
                .yaml("sleep_ms: 120\nlimits:\n  max_concurrent_predictions: 2\n  queue_timeout_ms: 10000\n")
                .writeTo(plugins, "slow.jar");
        GatewayConfig config = ConfigLoader.create(Map.of()).fromYaml("""
                server:
                  host: 127.0.0.1
                warmup:
                  requests: 4000
                  max_ms: 1500
                  concurrency: 8
                """, "test config").withPort(0).withPluginsDir(plugins)
                .withLifecycle(GatewayConfig.Lifecycle.DEFAULTS.withWatch(false));
        Gateway gateway = Gateway.create(config);
        try (TestGateway test = TestGateway.of(gateway)) {
            gateway.start().await();
            List<String> states = new ArrayList<>();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).until(() -> {
                var ready = test.get("/health/ready");
                states.add(TestGateway.json(ready).path("status").asText() + " " + ready.statusCode());
                return ready.statusCode() == 200;
            });
            assertThat(states).contains("warming 503");
            // 120 ms a prediction, two at a time: 1.5 s holds a few dozen of the 4,000, never all
            assertThat(warmed(test.get("/metrics").body(), "slow")).isBetween(1, 40);
        }
    }

    @Test
    void aGatewayListeningOnOneAddressIsWarmedOnThatAddress() throws Exception {
        TestGateway.copyExamples(plugins, "iris");
        // 127.0.0.2 is a loopback address too, but a socket bound to it does not answer on 127.0.0.1
        GatewayConfig config = ConfigLoader.create(Map.of()).fromYaml("""
                server:
                  host: 127.0.0.2
                grpc:
                  port: 0
                """ + exactly(100), "test config").withPort(0).withPluginsDir(plugins)
                .withLifecycle(GatewayConfig.Lifecycle.DEFAULTS.withWatch(false));
        Gateway gateway = Gateway.create(config);
        try (TestGateway test = TestGateway.of(gateway)) {
            int port = gateway.start().await();
            java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
            await().atMost(Duration.ofSeconds(120)).until(() -> JdkHttp.send(client, java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.2:" + port + "/health/ready")).build()).statusCode() == 200);
            String metrics = JdkHttp.send(client, java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.2:" + port + "/metrics")).build()).body();
            // the predict route, v2 REST and gRPC's ModelInfer, 100 each, none refused
            assertThat(warmed(metrics, "iris")).isEqualTo(300);
        }
    }

    @Test
    void theWarmUpConnectsToLoopbackWhenTheGatewayListensOnEveryAddressAndToItsOneAddressOtherwise() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        assertThat(ServingWarmup.address("0.0.0.0")).isEqualTo(loopback);
        assertThat(ServingWarmup.address("::")).isEqualTo(loopback);
        assertThat(ServingWarmup.address("[::]")).isEqualTo(loopback);
        assertThat(ServingWarmup.address("")).isEqualTo(loopback);
        assertThat(ServingWarmup.address("localhost")).isEqualTo(loopback);
        assertThat(ServingWarmup.address("127.0.0.2")).isEqualTo(InetAddress.getByName("127.0.0.2"));
        assertThat(ServingWarmup.address("[::1]")).isEqualTo(InetAddress.getByName("::1"));
        assertThat(ServingWarmup.authority(InetAddress.getByName("127.0.0.2"), 8080)).isEqualTo("127.0.0.2:8080");
        assertThat(ServingWarmup.authority(InetAddress.getByName("::1"), 8080)).isEqualTo("[0:0:0:0:0:0:0:1]:8080");
    }

    @Test
    void afterItsRequestsEachClassifierGoesOnUntilTheCompilerHasGoneQuiet() throws IOException {
        TestGateway.copyExamples(plugins, "iris", "wine");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            long start = System.nanoTime();
            // the compiler works for the first second, then stops
            LongSupplier compiler = () -> Math.min(1000, (System.nanoTime() - start) / 1_000_000);
            List<ServingWarmup.Outcome> outcomes = warmUp(gateway, new GatewayConfig.Warmup(50, 60_000, 4, true), compiler);
            long took = (System.nanoTime() - start) / 1_000_000;
            assertThat(outcomes).hasSize(2).allSatisfy(o -> {
                assertThat(o.stoppedBecause()).isEqualTo("JIT quiet");
                assertThat(o.failed()).isZero();
                // one second of compiling and a quiet window after it: far more than 50 requests
                assertThat(o.answered()).isGreaterThan(50);
            });
            assertThat(took).isBetween(1000 + ServingWarmup.QUIET_WINDOW_MS, 30_000L);
        }
    }

    @Test
    void aCompilerThatNeverGoesQuietIsCutOffByTheTimeLimitAndWithoutUntilJitQuietTheRequestsAreAll() throws IOException {
        TestGateway.copyExamples(plugins, "iris");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            long start = System.nanoTime();
            LongSupplier busy = () -> (System.nanoTime() - start) / 1_000_000;
            assertThat(warmUp(gateway, new GatewayConfig.Warmup(50, 2500, 4, true), busy)).singleElement().satisfies(o -> {
                assertThat(o.stoppedBecause()).isEqualTo("warmup.max_ms reached");
                assertThat(o.answered()).isGreaterThan(50);
            });
            assertThat(warmUp(gateway, new GatewayConfig.Warmup(50, 60_000, 4, false), busy)).singleElement().satisfies(o -> {
                assertThat(o.stoppedBecause()).isEqualTo("done");
                assertThat(o.answered()).isEqualTo(50);
            });
            // a JVM that does not report its compiler's time: each classifier gets its requests
            assertThat(warmUp(gateway, new GatewayConfig.Warmup(50, 60_000, 4, true), null)).singleElement().satisfies(o -> {
                assertThat(o.stoppedBecause()).isEqualTo("done");
                assertThat(o.answered()).isEqualTo(50);
            });
        }
    }

    @Test
    void aGrpcCallAnsweredWithAnErrorStatusStopsItsTargetAndIsReported() throws IOException {
        TestGateway.copyExamples(plugins, "iris");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            GatewayConfig.Warmup config = new GatewayConfig.Warmup(50, 60_000, 2, false);
            // a truncated ModelInferRequest: INVALID_ARGUMENT, answered without a message
            ServingWarmup.Target broken = ServingWarmup.grpcTarget("iris", List.of(new byte[] {0x0a, 0x05, 'i'}), limits(2, 64), 2);
            assertThat(new ServingWarmup(gateway.gateway().vertx(), InetAddress.getLoopbackAddress(), gateway.port(), gateway.gateway().grpcPort(), config,
                    WarmupMark.headers(false), null).run(List.of(broken)).await()).singleElement().satisfies(o -> {
                        assertThat(o.name()).isEqualTo("iris (v2 gRPC)");
                        assertThat(o.answered()).isZero();
                        assertThat(o.failed()).isBetween(1, 2);
                        assertThat(o.stoppedBecause()).isEqualTo("answered without a message (a gRPC error status)");
                    });
            // the example's messages are answered, typed and raw, plain and with more headers, over kept connections
            ClassifierInfo iris = gateway.gateway().registry().serving().iterator().next().info();
            ServingWarmup.Target example = ServingWarmup.grpcTarget("iris", Inference.exampleMessages(iris, iris.example()),
                    limits(2, 64), 2);
            assertThat(new ServingWarmup(gateway.gateway().vertx(), InetAddress.getLoopbackAddress(), gateway.port(), gateway.gateway().grpcPort(), config,
                    WarmupMark.headers(false), null).run(List.of(example)).await()).singleElement().satisfies(o -> {
                        assertThat(o.answered()).isEqualTo(50);
                        assertThat(o.failed()).isZero();
                    });
        }
    }

    @Test
    void someRequestsWaitInTheQueueButNeverMoreThanSlotsAndQueueHold() {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode example = mapper.createArrayNode().add(5.1).add(3.5);
        assertThat(ServingWarmup.target("", "iris", example, limits(2, 64), 8, mapper).concurrency()).isEqualTo(4);
        assertThat(ServingWarmup.target("", "iris", example, limits(2, 0), 8, mapper).concurrency()).isEqualTo(2);
        assertThat(ServingWarmup.target("", "iris", example, limits(8, 64), 8, mapper).concurrency()).isEqualTo(8);
        assertThat(ServingWarmup.target("", "iris", example, limits(1, 64), 8, mapper).concurrency()).isEqualTo(2);
        // the example comes compact, spaced and pretty-printed, as clients send it
        assertThat(ServingWarmup.target("/v1", "iris", example, limits(2, 64), 8, mapper)).satisfies(t -> {
            assertThat(t.path()).isEqualTo("/v1/iris/predict");
            assertThat(t.bodies()).extracting(b -> b.toString()).containsExactly(
                    "{\"payload\":[5.1,3.5]}", "{\"payload\": [5.1, 3.5]}\n", "{\n  \"payload\" : [ 5.1, 3.5 ]\n}");
        });
    }

    private static Limits limits(int slots, int queue) {
        return new Limits(slots, queue, Limits.DEFAULT_QUEUE_TIMEOUT_MS, Limits.DEFAULT_TIMEOUT_MS, Limits.DEFAULT_MAX_BATCH);
    }

    /** Warms every classifier of a running gateway with {@code compiler} as the compiler's clock. */
    private static List<ServingWarmup.Outcome> warmUp(TestGateway gateway, GatewayConfig.Warmup config, LongSupplier compiler) {
        ObjectMapper mapper = new ObjectMapper();
        List<ServingWarmup.Target> targets = gateway.gateway().registry().serving().stream()
                .map(c -> ServingWarmup.target("", c.info().name(), c.info().example(), c.info().limits(), config.concurrency(), mapper))
                .toList();
        return new ServingWarmup(gateway.gateway().vertx(), InetAddress.getLoopbackAddress(), gateway.port(), gateway.gateway().grpcPort(), config,
                WarmupMark.headers(false), compiler).run(targets).await();
    }

    /** The warm-up predictions of {@code classifier} answered 200. */
    private static int warmed(String metrics, String classifier) {
        return answered(metrics, "mlserver_warmup_requests_total", classifier);
    }

    /** Vert.x's count of POST requests the HTTP server answered 200, of any route. */
    private static int serverPosts(String metrics) {
        Matcher m = Pattern.compile("(?m)^vertx_http_server_requests_total\\{([^}]*)} ([0-9.]+)$").matcher(metrics);
        int total = 0;
        while (m.find()) {
            if (m.group(1).contains("method=\"POST\"") && m.group(1).contains("code=\"200\"")) {
                total += (int) Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** The predict requests of {@code classifier} answered 200. */
    private static int counted(String metrics, String classifier) {
        return answered(metrics, "mlserver_requests_total", classifier, "route=\"predict\"");
    }

    /**
     * The series {@code name} of {@code classifier} with status 200 and every one of {@code labels},
     * summed over its series, whatever their label order.
     */
    private static int answered(String metrics, String name, String classifier, String... labels) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{([^}]*)} ([0-9.]+)$").matcher(metrics);
        int total = 0;
        while (m.find()) {
            String series = m.group(1);
            if (series.contains("classifier=\"" + classifier + "\"") && series.contains("status=\"200\"")
                    && java.util.Arrays.stream(labels).allMatch(series::contains)) {
                total += (int) Double.parseDouble(m.group(2));
            }
        }
        return total;
    }
}
