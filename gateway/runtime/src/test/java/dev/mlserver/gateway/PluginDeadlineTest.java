package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.HangingClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugins that misbehave while loading or predicting: an {@code open()} that never returns or
 * spins, a prediction that never returns. Loads have deadlines and run beside each other,
 * readiness says what is pending and what cannot answer, and stopping never waits for them.
 */
class PluginDeadlineTest {
    static final String X = "{\"payload\": {\"x\": 1}}";
    static final String HANG = "{\"payload\": {\"x\": 99}}";
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path plugins;

    @AfterEach
    void releaseHangs() {
        HangingClassifier.releaseAll();
    }

    private void hangingJar(String file, String yaml) {
        PluginJars.plugin(file.replace(".jar", "")).classifier(HangingClassifier.class).yaml(yaml).writeTo(plugins, file);
    }

    @Test
    void aJarWhoseOpenNeverReturnsDelaysNoOtherAndReadinessSaysWhatIsPending() throws Exception {
        hangingJar("aaa-hang.jar", "hang: open\n");
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        TestGateway gateway = TestGateway.startLoading(plugins, """
                plugins: {watch: false, load_timeout_ms: 600000}
                shutdown: {grace_period_ms: 0, drain_timeout_ms: 1000}
                """, Map.of());
        try {
            // iris and fixture serve while aaa-hang.jar, first in name order, is still in open()
            await().atMost(WAIT).until(() -> gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}").statusCode() == 200);
            await().atMost(WAIT).until(() -> gateway.post("/fixture/predict", X).statusCode() == 200);
            HttpResponse<String> ready = gateway.get("/health/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            JsonNode body = TestGateway.json(ready);
            assertThat(body.path("status").asText()).isEqualTo("loading");
            assertThat(body.path("loading").get(0).path("jar").asText()).isEqualTo("aaa-hang.jar");
            assertThat(body.path("loading").get(0).path("reason").asText()).startsWith("open() running for ");
            assertThat(status(gateway, "aaa-hang.jar").orElseThrow().state()).isEqualTo(PluginStatus.State.LOADING);
        } finally {
            // the stop abandons the load instead of waiting for it (the load's deadline is 10 minutes away)
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);
            stopped.get(5, TimeUnit.MINUTES);
        }
    }

    @Test
    void aLoadThatOverrunsItsDeadlineFailsNamingTheStepAndTheOthersServe() {
        hangingJar("aaa-hang.jar", "hang: open\n");
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        try (TestGateway gateway = TestGateway.start(plugins, "plugins: {watch: false, load_timeout_ms: 2000}\n")) {
            PluginStatus hang = status(gateway, "aaa-hang.jar").orElseThrow();
            assertThat(hang.state()).isEqualTo(PluginStatus.State.FAILED);
            assertThat(hang.reason()).isEqualTo("open() did not return within 2 s");
            assertThat(gateway.post("/fixture/predict", X).statusCode()).isEqualTo(200);
            HttpResponse<String> ready = gateway.get("/health/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(TestGateway.json(ready).path("failed_plugins").asInt()).isEqualTo(1);
        }
    }

    @Test
    void aSpinningOpenIsAbandonedAndItsThreadCountedUntilItEnds() {
        hangingJar("spin.jar", "spin_open_ms: 4000\n");
        try (TestGateway gateway = TestGateway.start(plugins, """
                plugins: {watch: false, load_timeout_ms: 1000}
                admin: {enabled: true}
                """)) {
            PluginStatus spin = status(gateway, "spin.jar").orElseThrow();
            assertThat(spin.reason()).isEqualTo("open() did not return within 1 s");
            JsonNode admin = TestGateway.json(gateway.get("/admin/plugins"));
            assertThat(admin.path("abandoned_threads").asInt()).isEqualTo(1);
            // the spin ends on its own: what it loaded late is closed, never served
            await().atMost(WAIT).until(() -> TestGateway.json(gateway.get("/admin/plugins")).path("abandoned_threads").asInt() == 0);
            assertThat(gateway.gateway().registry().find("spin")).isEmpty();
        }
    }

    @Test
    void aReloadWithAJarThatNeverOpensAnswersAtTheDeadline() {
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        try (TestGateway gateway = TestGateway.start(plugins, """
                plugins: {watch: false, load_timeout_ms: 2000}
                admin: {enabled: true}
                """)) {
            hangingJar("late.jar", "hang: open\n");
            HttpResponse<String> reload = gateway.post("/admin/plugins/reload", "");
            assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
            JsonNode failed = TestGateway.json(reload).path("failed");
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0).path("reason").asText()).isEqualTo("open() did not return within 2 s");
            // a second reload is not held up by the abandoned thread
            HttpResponse<String> again = gateway.post("/admin/plugins/reload", "");
            assertThat(again.statusCode()).isEqualTo(200);
            assertThat(gateway.post("/fixture/predict", X).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void predictionsThatNeverReturnMakeTheClassifierNotReadyOnceTheyHoldEverySlot() {
        hangingJar("stuck.jar", "hang: predict\nlimits: {max_concurrent_predictions: 2, timeout_ms: 300, queue_timeout_ms: 300}\n");
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        try (TestGateway gateway = TestGateway.start(plugins, "plugins: {watch: false}\nshutdown: {drain_timeout_ms: 500}\n")) {
            assertThat(gateway.get("/stuck/ready").statusCode()).isEqualTo(200);
            assertThat(gateway.post("/stuck/predict", HANG).statusCode()).isEqualTo(504);
            // one slot of two is held: still ready
            assertThat(gateway.get("/stuck/ready").statusCode()).isEqualTo(200);
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            assertThat(gateway.post("/stuck/predict", HANG).statusCode()).isEqualTo(504);

            HttpResponse<String> ready = gateway.get("/stuck/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(TestGateway.json(ready).path("error").path("code").asText()).isEqualTo("classifier_not_ready");
            assertThat(ready.headers().firstValue("Retry-After")).isPresent();
            HttpResponse<String> health = gateway.get("/health/ready");
            assertThat(health.statusCode()).isEqualTo(503);
            JsonNode body = TestGateway.json(health);
            assertThat(body.path("status").asText()).isEqualTo("classifiers_not_ready");
            assertThat(body.path("not_ready").get(0).path("classifier").asText()).isEqualTo("stuck");
            assertThat(gateway.post("/fixture/predict", X).statusCode()).isEqualTo(200);

            // once a stuck prediction returns, the classifier is ready again
            HangingClassifier.releaseAll();
            await().atMost(WAIT).until(() -> gateway.get("/stuck/ready").statusCode() == 200);
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anOldVersionWhosePredictionNeverReturnsIsRetiredWhenItsGraceEnds() throws Exception {
        hangingJar("stuck.jar", "hang: predict\nlimits: {timeout_ms: 300}\n");
        try (TestGateway gateway = TestGateway.start(plugins, """
                plugins: {watch: false}
                admin: {enabled: true}
                shutdown: {drain_timeout_ms: 1000}
                """)) {
            assertThat(gateway.post("/stuck/predict", HANG).statusCode()).isEqualTo(504);
            Path later = Files.createDirectories(plugins.resolveSibling(plugins.getFileName() + "-v2"));
            PluginJars.plugin("stuck").version("2.0.0").classifier(FixtureClassifier.class)
                    .writeTo(later, "stuck.jar");
            Files.copy(later.resolve("stuck.jar"), plugins.resolve("stuck.jar"), StandardCopyOption.REPLACE_EXISTING);
            HttpResponse<String> reload = gateway.post("/admin/plugins/reload", "");
            assertThat(TestGateway.json(reload).path("loaded")).hasSize(1);
            assertThat(TestGateway.json(gateway.post("/stuck/predict", X)).path("metadata").path("version").asText()).isEqualTo("2.0.0");

            // the grace (drain_timeout_ms) ends: the old version leaves, its one stuck thread abandoned and counted
            await().atMost(WAIT).until(() -> gateway.gateway().registry().retiring().isEmpty());
            JsonNode admin = TestGateway.json(gateway.get("/admin/plugins"));
            assertThat(admin.path("retiring")).isEmpty();
            assertThat(admin.path("abandoned_threads").asInt()).isEqualTo(1);
            assertThat(gateway.get("/metrics").body().lines().filter(l -> l.startsWith("mlserver_classifier_version_info{")))
                    .hasSize(1).allSatisfy(l -> assertThat(l).contains("version=\"2.0.0\""));

            // if it ever returns, the old version closes
            HangingClassifier.releaseAll();
            await().atMost(WAIT).until(() -> TestGateway.json(gateway.get("/admin/plugins")).path("abandoned_threads").asInt() == 0);
        }
    }

    private static Optional<PluginStatus> status(TestGateway gateway, String jar) {
        return gateway.gateway().registry().statuses().stream().filter(s -> s.jar().equals(jar)).findFirst();
    }
}
