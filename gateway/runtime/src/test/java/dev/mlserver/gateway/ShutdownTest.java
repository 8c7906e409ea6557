package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Gateway#stop}: readiness first, a grace period, then a drain that answers what was accepted. */
class ShutdownTest {
    static final String X = "{\"payload\": {\"x\": 2}}";

    @TempDir
    Path plugins;

    @Test
    void stopTurnsReadinessOffAtOnceServesThroughTheGracePeriodAndAnswersEveryAcceptedRequest() throws Exception {
        PluginJars.plugin("slow").classifier(FixtureClassifier.class).yaml("""
                sleep_ms: 300
                limits:
                  max_concurrent_predictions: 2
                  queue_timeout_ms: 10000
                """).writeTo(plugins, "slow.jar");
        String yaml = """
                plugins:
                  watch: false
                shutdown:
                  grace_period_ms: 5000
                  drain_timeout_ms: 10000
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            LoadedClassifier slow = gateway.gateway().registry().find("slow").orElseThrow();
            List<CompletableFuture<HttpResponse<String>>> accepted = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                accepted.add(predictAsync(gateway));
            }
            // two running, four queued
            await().atMost(Duration.ofSeconds(30)).until(() -> slow.bulkhead().admitted() == 6);

            Thread stopper = new Thread(gateway.gateway()::stop, "test-stop");
            stopper.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> gateway.get("/health/ready").statusCode() == 503);
            assertThat(TestGateway.json(gateway.get("/health/ready")).get("status").asText()).isEqualTo("draining");
            // still inside the grace period: accepted, queued behind the six, answered during the drain
            CompletableFuture<HttpResponse<String>> duringGrace = predictAsync(gateway);
            accepted.add(duringGrace);
            stopper.join(30_000);

            assertThat(stopper.isAlive()).isFalse();
            for (CompletableFuture<HttpResponse<String>> f : accepted) {
                HttpResponse<String> response = f.join();
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(TestGateway.json(response).get("predictions").get(0).asText()).isEqualTo("high");
            }
            assertThat(slow.closed()).isDone();
        }
    }

    @Test
    void afterStopNewConnectionsAreRefused() {
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        TestGateway gateway = TestGateway.start(plugins, "plugins:\n  watch: false\n");
        assertThat(gateway.post("/fixture/predict", X).statusCode()).isEqualTo(200);

        gateway.gateway().stop();

        HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> fresh.send(HttpRequest.newBuilder(gateway.uri("/health/live")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
        assertThat(gateway.gateway().registry().serving()).isEmpty();
    }

    private static CompletableFuture<HttpResponse<String>> predictAsync(TestGateway gateway) {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/slow/predict"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(X)).build();
        return gateway.client().sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }
}
