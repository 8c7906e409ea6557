package dev.mlserver.gateway.versions;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Path;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits and cache a version runs with, lowest precedence first: the gateway's {@code limits:},
 * the plugin's mlserver.yaml, the environment, then {@code classifiers.<name>}.
 */
class OperatorOverridesTest {
    static final String X = "{\"payload\": {\"x\": 2}}";

    @TempDir
    Path plugins;

    private void plugin(String yaml) {
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).yaml(yaml).writeTo(plugins, "fixture.jar");
    }

    private static JsonNode limits(TestGateway gateway) {
        return TestGateway.json(gateway.get("/fixture")).get("limits");
    }

    @Test
    void thePluginsOwnLimitsWinOverTheGatewayDefaults() {
        plugin("limits: {max_concurrent_predictions: 3, max_queue: 7}\n");
        try (TestGateway gateway = TestGateway.start(plugins, "limits: {max_concurrent_predictions: 1, max_queue: 9}\n")) {
            assertThat(limits(gateway).get("max_concurrent_predictions").asInt()).isEqualTo(3);
            assertThat(limits(gateway).get("max_queue").asInt()).isEqualTo(7);
        }
    }

    @Test
    void theEnvironmentCapsAPluginThatSetsItsOwnLimit() {
        plugin("limits: {max_concurrent_predictions: 3}\n");
        try (TestGateway gateway = TestGateway.start(plugins, "", Map.of("MAX_CONCURRENT_PREDICTIONS", "1"))) {
            assertThat(limits(gateway).get("max_concurrent_predictions").asInt()).isEqualTo(1);
            assertThat(gateway.get("/metrics").body())
                    .contains("mlserver_max_concurrent_predictions{classifier=\"fixture\",version=\"1.0.0\"} 1.0");
        }
    }

    @Test
    void theClassifiersSectionWinsOverThePluginAndTheEnvironment() {
        plugin("limits: {max_concurrent_predictions: 3, timeout_ms: 5000}\n");
        String yaml = """
                classifiers:
                  fixture:
                    max_concurrent_predictions: 4
                    max_queue: 5
                    queue_timeout_ms: 250
                    max_batch: 2
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml, Map.of("MAX_CONCURRENT_PREDICTIONS", "1"))) {
            JsonNode limits = limits(gateway);
            assertThat(limits.get("max_concurrent_predictions").asInt()).isEqualTo(4);
            assertThat(limits.get("max_queue").asInt()).isEqualTo(5);
            assertThat(limits.get("queue_timeout_ms").asInt()).isEqualTo(250);
            assertThat(limits.get("timeout_ms").asInt()).as("the plugin's, not overridden").isEqualTo(5000);
            assertThat(gateway.post("/fixture/predict", "{\"instances\": [{\"x\": 1}, {\"x\": 1}, {\"x\": 1}]}").statusCode())
                    .isEqualTo(400);
        }
    }

    @Test
    void theGatewayConfigTurnsOnTheCacheOfAPluginThatHasNone() {
        plugin("");
        String yaml = """
                classifiers:
                  fixture:
                    cache: {max_entries: 100, ttl: 1m}
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            gateway.post("/fixture/predict", X);
            assertThat(TestGateway.json(gateway.post("/fixture/predict", X)).get("cached").asBoolean()).isTrue();
        }
    }

    @Test
    void theGatewayConfigTurnsOffTheCacheOfAPluginThatHasOne() {
        plugin("cache: {max_entries: 100}\n");
        try (TestGateway gateway = TestGateway.start(plugins, "classifiers: {fixture: {cache: {max_entries: 0}}}\n")) {
            gateway.post("/fixture/predict", X);
            assertThat(TestGateway.json(gateway.post("/fixture/predict", X)).path("cached").asBoolean()).isFalse();
        }
    }

    @Test
    void invalidClassifierSectionsAreRefusedWithOneLine() {
        for (String bad : new String[] {
            "classifiers: {iris: {canary: {version: 1.1.0, weight: 101}}}",
            "classifiers: {iris: {canary: {weight: 10}}}",
            "classifiers: {iris: {shadow: {version: 2.0.0, sample: -1}}}",
            "classifiers: {iris: {canary: {version: 2.0.0, weight: 5}, shadow: {version: 2.0.0, sample: 5}}}",
            "classifiers: {iris: {max_concurrent_predictions: 0}}",
            "classifiers: {iris: {canary: {version: 1.1.0, weight: 5, sticky_header: \"a b\"}}}",
            "classifiers: {iris: {cache: yes}}",
            "classifiers: {iris: {colour: blue}}",
        }) {
            Assertions.assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml(bad, "test"))
                    .as(bad).isInstanceOf(ConfigException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").contains("classifiers.iris"));
        }
    }
}
