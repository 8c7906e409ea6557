package dev.mlserver.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        try (TestGateway gateway = TestGateway.start(plugins, """
                warmup:
                  requests: 300
                  max_ms: 120000
                  concurrency: 4
                """)) {
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            String metrics = gateway.get("/metrics").body();
            assertThat(warmed(metrics, "iris")).isEqualTo(300);
            assertThat(warmed(metrics, "wine")).isEqualTo(300);
            // the warm-up is counted apart: the request counters and the access log start from the first client
            assertThat(counted(metrics, "iris")).isZero();
            assertThat(gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}").statusCode()).isEqualTo(200);
            // counted when the response has ended, which can be just after the client has it
            await().atMost(Duration.ofSeconds(10)).until(() -> counted(gateway.get("/metrics").body(), "iris") == 1);
            // a client cannot pass for the warm-up: the header's value is drawn per process
            assertThat(gateway.send(java.net.http.HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                    .header("Content-Type", "application/json").header("X-Mlserver-Warmup", "1")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"payload\": [5.1, 3.5, 1.4, 0.2]}")).build())
                    .statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> counted(gateway.get("/metrics").body(), "iris") == 2);
        }
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

    /** The warm-up predictions of {@code classifier} answered 200. */
    private static int warmed(String metrics, String classifier) {
        return answered(metrics, "mlserver_warmup_requests_total", classifier);
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
