package dev.mlserver.gateway.versions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copies of unpinned requests run on a shadow version after the caller is answered, and are compared. */
class ShadowTest {
    @TempDir
    Path plugins;

    private static String body(double x) {
        return "{\"payload\": {\"x\": " + x + "}}";
    }

    /** 1.0.0 answers "high" above 0; the candidate 2.0.0 only above 5: they disagree between 0 and 5. */
    private void primaryAndCandidate(String candidateYaml) {
        PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.0.0.jar");
        PluginJars.plugin("fixture").version("2.0.0").classifier(FixtureClassifier.class)
                .yaml("threshold: 5\n" + candidateYaml).writeTo(plugins, "fixture-2.0.0.jar");
    }

    private static String shadow(int sample, int maxQueue) {
        return """
                classifiers:
                  fixture:
                    default_version: 1.0.0
                    shadow: {version: 2.0.0, sample: %d, max_queue: %d}
                """.formatted(sample, maxQueue);
    }

    private static double metric(TestGateway gateway, String series) {
        for (String line : gateway.get("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        return 0;
    }

    private static String comparisons(String outcome) {
        return "mlserver_shadow_comparisons_total{classifier=\"fixture\",outcome=\"" + outcome
                + "\",primary=\"1.0.0\",shadow=\"2.0.0\"}";
    }

    @Test
    void shadowTrafficNeverChangesTheAnswerAndAgreementIsCountedAgainstADifferentCandidate() {
        primaryAndCandidate("");
        List<String> without = new ArrayList<>();
        try (TestGateway gateway = TestGateway.start(plugins, shadow(0, 64))) {
            for (int i = 0; i < 30; i++) {
                without.add(answer(gateway.post("/fixture/predict", body(i % 3 == 0 ? 10 : 1))));
            }
        }
        try (TestGateway gateway = TestGateway.start(plugins, shadow(100, 64))) {
            List<String> with = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                with.add(answer(gateway.post("/fixture/predict", body(i % 3 == 0 ? 10 : 1))));
            }
            assertThat(with).isEqualTo(without);
            // x = 10: both "high" (10 agree); x = 1: "high" against "low" (20 disagree)
            await().atMost(Duration.ofSeconds(10)).until(() -> metric(gateway, comparisons("agree"))
                    + metric(gateway, comparisons("disagree")) == 30);
            assertThat(metric(gateway, comparisons("agree"))).isEqualTo(10);
            assertThat(metric(gateway, comparisons("disagree"))).isEqualTo(20);
            assertThat(metric(gateway, comparisons("error"))).isZero();
            assertThat(metric(gateway, comparisons("dropped"))).isZero();
            assertThat(gateway.get("/metrics").body()).contains(
                    "mlserver_shadow_probability_difference_count{classifier=\"fixture\",primary=\"1.0.0\",shadow=\"2.0.0\"} 30");
            JsonNode pair = TestGateway.json(gateway.get("/status")).get("shadows").get(0);
            assertThat(pair.get("agree").asLong()).isEqualTo(10);
            assertThat(pair.get("disagree").asLong()).isEqualTo(20);
            assertThat(pair.get("agreement_rate").asDouble()).isEqualTo(0.3333);
        }
    }

    @Test
    void theCallerIsAnsweredBeforeItsShadowCopyHasRun() {
        primaryAndCandidate("sleep_ms: 1500\n");
        try (TestGateway gateway = TestGateway.start(plugins, shadow(100, 64))) {
            HttpResponse<String> answer = gateway.post("/fixture/predict", body(1));
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("X-Model-Version")).contains("1.0.0");
            // the copy (1.5 s) has not been compared when the caller has its answer
            assertThat(metric(gateway, comparisons("disagree"))).isZero();
            // polled often: the copy is pending only while it runs (1.5 s)
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> gateway.gateway().shadows().pending("fixture") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> metric(gateway, comparisons("disagree")) == 1);
        }
    }

    @Test
    void copiesBeyondTheQueueAreDroppedAndCountedWhileEveryCallerIsAnswered() {
        primaryAndCandidate("sleep_ms: 500\n");
        try (TestGateway gateway = TestGateway.start(plugins, shadow(100, 2))) {
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                calls.add(CompletableFuture.supplyAsync(() -> gateway.post("/fixture/predict", body(1))));
            }
            calls.forEach(c -> assertThat(c.join().statusCode()).isEqualTo(200));
            await().atMost(Duration.ofSeconds(20)).until(() -> gateway.gateway().shadows().pending("fixture") == 0
                    && metric(gateway, comparisons("disagree")) + metric(gateway, comparisons("dropped")) == 8);
            assertThat(metric(gateway, comparisons("dropped"))).isGreaterThanOrEqualTo(1);
            assertThat(metric(gateway, comparisons("disagree"))).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void pinnedRequestsAreNotCopied() {
        primaryAndCandidate("");
        try (TestGateway gateway = TestGateway.start(plugins, shadow(100, 64))) {
            for (int i = 0; i < 5; i++) {
                assertThat(gateway.post("/fixture/versions/1.0.0/predict", body(1)).statusCode()).isEqualTo(200);
            }
            assertThat(gateway.post("/fixture/predict", body(1)).statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> metric(gateway, comparisons("disagree")) == 1);
            assertThat(metric(gateway, comparisons("agree"))).isZero();
        }
    }

    @Test
    void aPairIsForgottenWithItsSeriesWhenTheShadowVersionIsRemoved() throws Exception {
        primaryAndCandidate("");
        String yaml = shadow(100, 64) + """
                plugins:
                  watch: true
                  watch_interval_ms: 50
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            for (int i = 0; i < 3; i++) {
                assertThat(gateway.post("/fixture/predict", body(1)).statusCode()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> metric(gateway, comparisons("disagree")) == 3);
            assertThat(TestGateway.json(gateway.get("/status")).get("shadows")).hasSize(1);

            Files.delete(plugins.resolve("fixture-2.0.0.jar"));
            await().atMost(Duration.ofSeconds(15)).until(() -> gateway.post("/fixture/versions/2.0.0/predict", body(1))
                    .statusCode() == 404);
            // the series and the /status entry go once 2.0.0 has drained, as its own series do
            await().atMost(Duration.ofSeconds(15)).until(() -> !gateway.get("/metrics").body().contains("mlserver_shadow_"));
            assertThat(TestGateway.json(gateway.get("/status")).get("shadows")).isEmpty();
            assertThat(gateway.get("/metrics").body()).doesNotContain("version=\"2.0.0\"");
            // 1.0.0 serves on, and with no shadow loaded nothing is copied or counted
            assertThat(answer(gateway.post("/fixture/predict", body(1)))).startsWith("200 1.0.0");
            assertThat(gateway.gateway().shadows().comparisons()).isEmpty();
        }
    }

    private static String answer(HttpResponse<String> response) {
        JsonNode json = TestGateway.json(response);
        return response.statusCode() + " " + json.at("/metadata/version").asText() + " " + json.get("predictions");
    }
}
