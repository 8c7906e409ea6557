package dev.mlserver.gateway.versions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.LoadLoop;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Default, canary and shadow changed while serving, by admin routes and config reloads, losing no request. */
class RuntimeChangesTest {
    static final String X = "{\"payload\": {\"x\": 2}}";
    static final String ADMIN = "admin:\n  enabled: true\nplugins:\n  watch: false\n";

    @TempDir
    Path plugins;
    @TempDir
    Path etc;

    @BeforeEach
    void twoVersions() {
        PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.0.0.jar");
        PluginJars.plugin("fixture").version("2.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-2.0.0.jar");
    }

    private Path config(String classifiers) throws IOException {
        return Files.writeString(etc.resolve("gateway.yaml"), ADMIN + classifiers);
    }

    private static HttpResponse<String> put(TestGateway gateway, String path, String json) {
        return gateway.send(HttpRequest.newBuilder(gateway.uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static List<LoadLoop.Answer> failures(List<LoadLoop.Answer> answers) {
        return answers.stream().filter(a -> a.status() != 200).toList();
    }

    private static void awaitAnswers(LoadLoop load, int more) {
        int now = load.answered();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.answered() >= now + more);
    }

    @Test
    void promotingANewDefaultUnderLoadFailsNoRequest() throws IOException {
        try (TestGateway gateway = TestGateway.startWithConfigFile(plugins,
                config("classifiers: {fixture: {default_version: 1.0.0}}\n"));
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 4, 500_000)) {
            awaitAnswers(load, 200);
            assertThat(load.newestSeen()).isEqualTo("1.0.0");

            HttpResponse<String> promoted = put(gateway, "/admin/classifiers/fixture/default", "{\"version\": \"2.0.0\"}");
            assertThat(promoted.statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(15)).until(() -> "2.0.0".equals(load.newestSeen()));
            awaitAnswers(load, 200);
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(answers.size()).isGreaterThan(400);
            assertThat(failures(answers)).isEmpty();
            assertThat(load.violations()).as("no answer from 1.0.0 after one from 2.0.0").isEmpty();
            assertThat(gateway.post("/fixture/versions/1.0.0/predict", X).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aConfigReloadUnderLoadLosesNoRequest() throws IOException {
        try (TestGateway gateway = TestGateway.startWithConfigFile(plugins,
                config("classifiers: {fixture: {default_version: 1.0.0}}\n"));
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 4, 500_000)) {
            awaitAnswers(load, 200);
            // a new default, and new limits: both versions are loaded again beside the serving ones
            config("classifiers: {fixture: {default_version: 2.0.0, max_concurrent_predictions: 1, max_queue: 500}}\n");
            HttpResponse<String> reload = gateway.post("/admin/config/reload", "");
            assertThat(reload.statusCode()).isEqualTo(200);
            assertThat(TestGateway.json(reload).at("/reload/reloadedClassifiers").toString()).contains("fixture");
            await().atMost(Duration.ofSeconds(15)).until(() -> "2.0.0".equals(load.newestSeen()));
            awaitAnswers(load, 200);
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(failures(answers)).isEmpty();
            assertThat(load.violations()).isEmpty();
            assertThat(TestGateway.json(gateway.get("/fixture")).at("/limits/max_concurrent_predictions").asInt()).isEqualTo(1);
        }
    }

    @Test
    void anInvalidConfigIsRefusedWithOneLineAndTheOldOneStays() throws IOException {
        try (TestGateway gateway = TestGateway.startWithConfigFile(plugins,
                config("classifiers: {fixture: {default_version: 1.0.0}}\n"))) {
            config("classifiers: {fixture: {default_version: 2.0.0, canary: {version: 1.0.0, weight: 250}}}\n");
            HttpResponse<String> refused = gateway.post("/admin/config/reload", "");
            assertThat(refused.statusCode()).isEqualTo(400);
            JsonNode error = TestGateway.json(refused).get("error");
            assertThat(error.get("code").asText()).isEqualTo("invalid_config");
            assertThat(error.get("message").asText()).doesNotContain("\n")
                    .contains("classifiers.fixture").contains("canary.weight must be between 0 and 100");
            for (int i = 0; i < 10; i++) {
                assertThat(gateway.post("/fixture/predict", X).headers().firstValue("X-Model-Version")).contains("1.0.0");
            }
        }
    }

    @Test
    void adminRoutesSetAndClearTheCanaryAndTheShadow() throws IOException {
        try (TestGateway gateway = TestGateway.startWithConfigFile(plugins,
                config("classifiers: {fixture: {default_version: 1.0.0}}\n"))) {
            assertThat(put(gateway, "/admin/classifiers/fixture/canary", "{\"version\": \"2.0.0\", \"weight\": 100}")
                    .statusCode()).isEqualTo(200);
            assertThat(gateway.post("/fixture/predict", X).headers().firstValue("X-Model-Version")).contains("2.0.0");
            assertThat(roles(gateway)).containsEntry("2.0.0", "canary");
            HttpResponse<String> clash = put(gateway, "/admin/classifiers/fixture/shadow", "{\"version\": \"2.0.0\", \"sample\": 5}");
            assertThat(clash.statusCode()).isEqualTo(400);

            assertThat(gateway.send(HttpRequest.newBuilder(gateway.uri("/admin/classifiers/fixture/canary")).DELETE().build())
                    .statusCode()).isEqualTo(200);
            assertThat(put(gateway, "/admin/classifiers/fixture/shadow", "{\"version\": \"2.0.0\", \"sample\": 100}")
                    .statusCode()).isEqualTo(200);
            assertThat(gateway.post("/fixture/predict", X).headers().firstValue("X-Model-Version")).contains("1.0.0");
            assertThat(roles(gateway)).containsEntry("2.0.0", "shadow").containsEntry("1.0.0", "default");

            assertThat(put(gateway, "/admin/classifiers/fixture/default", "{\"version\": \"9.0.0\"}").statusCode()).isEqualTo(404);
            assertThat(put(gateway, "/admin/classifiers/nothing/default", "{\"version\": \"1.0.0\"}").statusCode()).isEqualTo(404);
            assertThat(put(gateway, "/admin/classifiers/fixture/canary", "{\"version\": \"2.0.0\", \"weight\": \"x\"}")
                    .statusCode()).isEqualTo(400);
            assertThat(put(gateway, "/admin/classifiers/fixture/canary", "{not json").statusCode()).isEqualTo(400);
        }
    }

    private static Map<String, String> roles(TestGateway gateway) {
        Map<String, String> roles = new HashMap<>();
        TestGateway.json(gateway.get("/admin/classifiers")).at("/classifiers/0/versions")
                .forEach(v -> roles.put(v.get("version").asText(), v.get("role").asText()));
        return roles;
    }
}
