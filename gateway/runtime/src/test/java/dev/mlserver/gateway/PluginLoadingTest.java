package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading plugin jars: isolation, side by side, and failures that leave the rest serving. */
class PluginLoadingTest {
    static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @TempDir
    Path plugins;

    private Path iris() throws IOException {
        return Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
    }

    @Test
    void twoOnnxPluginsLoadSideBySideEachInItsOwnClassLoader() throws IOException {
        iris();
        PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "iris-copy", "2.0.0");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(gateway.post("/iris/predict", IRIS).statusCode()).isEqualTo(200);
            JsonNode copy = TestGateway.json(gateway.post("/iris-copy/predict", IRIS));
            assertThat(copy.get("predictions").get(0).asText()).isEqualTo("setosa");
            assertThat(copy.get("metadata").get("version").asText()).isEqualTo("2.0.0");

            var loaded = gateway.gateway().registry().serving().stream().map(c -> c.classifier()).toList();
            assertThat(loaded).hasSize(2);
            ClassLoader a = loaded.get(0).getClass().getClassLoader();
            ClassLoader b = loaded.get(1).getClass().getClassLoader();
            assertThat(a).isNotSameAs(b);
            assertThat(loaded.get(0).getClass()).isNotSameAs(loaded.get(1).getClass());
            // the SPI and ONNX Runtime come from the gateway's class loader, never from a plugin
            assertThat(loaded.get(0)).isInstanceOf(dev.mlserver.api.Classifier.class);
            assertThat(OnnxModel.class.getClassLoader()).isSameAs(getClass().getClassLoader());
            // the same model bytes are one ONNX session
            assertThat(OnnxModel.openSessions()).isEqualTo(1);
        }
    }

    @Test
    void brokenJarsAreReportedWhileTheGoodOnesServe() throws IOException {
        iris();
        Files.write(plugins.resolve("corrupt.jar"), "this is not a zip file".getBytes());
        PluginJars.plugin("metrics").classifier(FixtureClassifier.class).writeTo(plugins, "reserved.jar");
        PluginJars.plugin("Bad_Name").classifier(FixtureClassifier.class).writeTo(plugins, "badname.jar");
        PluginJars.plugin("refuses").classifier(FixtureClassifier.class).yaml("fail: open\n").writeTo(plugins, "refuses.jar");
        PluginJars.plugin("cold").classifier(FixtureClassifier.class).yaml("fail: warmup\n").writeTo(plugins, "cold.jar");
        PluginJars.plugin("empty").writeTo(plugins, "noclassifier.jar");
        PluginJars.plugin("good").classifier(FixtureClassifier.class).writeTo(plugins, "good.jar");

        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(gateway.post("/iris/predict", IRIS).statusCode()).isEqualTo(200);
            assertThat(gateway.post("/good/predict", "{\"payload\": {\"x\": 2}}").statusCode()).isEqualTo(200);
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);

            Map<String, String> reasons = reasons(TestGateway.json(gateway.get("/classifiers")));
            assertThat(reasons.get("corrupt.jar")).contains("not a readable jar");
            assertThat(reasons.get("reserved.jar")).contains("reserved");
            assertThat(reasons.get("badname.jar")).contains("invalid classifier name");
            assertThat(reasons.get("refuses.jar")).contains("fixture refuses to open");
            assertThat(reasons.get("cold.jar")).contains("warm-up");
            assertThat(reasons.get("noclassifier.jar")).contains("declares no Classifier extension");
            assertThat(gateway.post("/refuses/predict", "{\"payload\": {\"x\": 2}}").statusCode()).isEqualTo(404);
            JsonNode refused = StreamSupport.stream(TestGateway.json(gateway.get("/classifiers")).get("plugins").spliterator(), false)
                    .filter(p -> p.get("jar").asText().equals("refuses.jar")).findFirst().orElseThrow();
            assertThat(refused.get("classifier").asText()).isEqualTo("refuses");
            assertThat(refused.get("version").asText()).isEqualTo("1.0.0");
            assertThat(gateway.get("/metrics").body()).contains("mlserver_plugin_loads_total{result=\"failure\"} 6");
        }
    }

    @Test
    void twoJarsOfOneClassifierServeSideBySideAndTheHighestVersionIsTheDefault() throws IOException {
        Path newer = PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "iris", "9.9.9");
        Files.move(newer, plugins.resolve("z-iris.jar"));
        iris();
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(reasons(TestGateway.json(gateway.get("/classifiers")))).isEmpty();
            assertThat(TestGateway.json(gateway.post("/iris/predict", IRIS)).get("metadata").get("version").asText())
                    .isEqualTo("9.9.9");
            String shipped = gateway.gateway().registry().versions("iris").orElseThrow().all().get(0).info().version();
            assertThat(TestGateway.json(gateway.post("/iris/versions/" + shipped + "/predict", IRIS))
                    .get("metadata").get("version").asText()).isEqualTo(shipped);
        }
    }

    @Test
    void limitsInMlserverYamlOverrideTheDefaults() throws IOException {
        PluginJars.plugin("limited").classifier(FixtureClassifier.class)
                .yaml("limits:\n  max_concurrent_predictions: 3\n  max_batch: 2\n").writeTo(plugins, "limited.jar");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            JsonNode limits = TestGateway.json(gateway.get("/limited")).get("limits");
            assertThat(limits.get("max_concurrent_predictions").asInt()).isEqualTo(3);
            assertThat(limits.get("max_batch").asInt()).isEqualTo(2);
            assertThat(gateway.post("/limited/predict", "{\"instances\": [{\"x\": 1}, {\"x\": 1}, {\"x\": 1}]}").statusCode())
                    .isEqualTo(400);
        }
    }

    @Test
    void aMisspeltLimitKeyFailsThatPluginWithTheKeyNamed() throws IOException {
        PluginJars.plugin("typo").classifier(FixtureClassifier.class)
                .yaml("limits:\n  max_concurent_predictions: 3\n").writeTo(plugins, "typo.jar");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(reasons(TestGateway.json(gateway.get("/classifiers"))).get("typo.jar"))
                    .contains("max_concurent_predictions");
        }
    }

    @Test
    void noPluginsMeansNotReady() {
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(503);
            assertThat(gateway.get("/health/live").statusCode()).isEqualTo(200);
        }
    }

    static Map<String, String> reasons(JsonNode classifiers) {
        List<JsonNode> plugins = StreamSupport.stream(classifiers.get("plugins").spliterator(), false).toList();
        return plugins.stream().filter(p -> p.has("reason"))
                .collect(java.util.stream.Collectors.toMap(p -> p.get("jar").asText(), p -> p.get("reason").asText()));
    }
}
