package dev.mlserver.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
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
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        Files.copy(TestGateway.examplePlugins().resolve("wine.jar"), plugins.resolve("wine.jar"));
        try (TestGateway gateway = TestGateway.start(plugins, """
                warmup:
                  requests: 300
                  max_ms: 120000
                  concurrency: 4
                """)) {
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            String metrics = gateway.get("/metrics").body();
            assertThat(counted(metrics, "iris")).isEqualTo(300);
            assertThat(counted(metrics, "wine")).isEqualTo(300);
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
            assertThat(counted(test.get("/metrics").body(), "slow")).isBetween(1, 40);
        }
    }

    /** The predict requests of {@code classifier} answered 200, summed over its series, whatever their label order. */
    private static int counted(String metrics, String classifier) {
        Matcher m = Pattern.compile("(?m)^mlserver_requests_total\\{([^}]*)} ([0-9.]+)$").matcher(metrics);
        int total = 0;
        while (m.find()) {
            String labels = m.group(1);
            if (labels.contains("classifier=\"" + classifier + "\"") && labels.contains("route=\"predict\"")
                    && labels.contains("status=\"200\"")) {
                total += (int) Double.parseDouble(m.group(2));
            }
        }
        return total;
    }
}
