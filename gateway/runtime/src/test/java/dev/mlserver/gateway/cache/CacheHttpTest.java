package dev.mlserver.gateway.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prediction cache over HTTP: a fixture classifier with a cache, the real iris without. */
class CacheHttpTest {
    @TempDir
    static Path plugins;
    @TempDir
    static Path later;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        PluginJars.plugin("cached").classifier(FixtureClassifier.class)
                .yaml("cache:\n  max_entries: 100\n  ttl: 1m\n").writeTo(plugins, "cached.jar");
        PluginJars.plugin("brief").classifier(FixtureClassifier.class)
                .yaml("cache: {max_entries: 100, ttl: 300ms}\n").writeTo(plugins, "brief.jar");
        PluginJars.plugin("versioned").version("1.0.0").classifier(FixtureClassifier.class)
                .yaml("cache: {max_entries: 100}\n").writeTo(plugins, "versioned.jar");
        PluginJars.plugin("misconfigured").classifier(FixtureClassifier.class)
                .yaml("cache: {max_entries: -5}\n").writeTo(plugins, "misconfigured.jar");
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static JsonNode predict(String classifier, String body) {
        var response = gateway.post("/" + classifier + "/predict", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestGateway.json(response);
    }

    @Test
    void aRepeatedInstanceIsAnsweredFromTheCacheAndMarked() {
        JsonNode first = predict("cached", "{\"payload\": {\"x\": 7}}");
        JsonNode second = predict("cached", "{\"payload\": {\"x\": 7}}");
        assertThat(first.has("cached")).as("a computed answer has no cached field").isFalse();
        assertThat(second.path("cached").asBoolean()).isTrue();
        assertThat(second.get("predictions")).isEqualTo(first.get("predictions"));
        assertThat(second.get("metadata")).isEqualTo(first.get("metadata"));
    }

    @Test
    void aRepeatedInstanceOverTheOpenInferenceProtocolIsMarkedInItsParameters() {
        String body = "{\"inputs\": [{\"name\": \"instances\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"{\\\"x\\\": 19}\"]}]}";
        JsonNode first = infer(body);
        JsonNode second = infer(body);
        assertThat(first.path("parameters").has("cached")).as("a computed answer has no cached parameter").isFalse();
        assertThat(second.path("parameters").path("cached").asBoolean()).isTrue();
        for (String field : List.of("repository", "classifier", "version", "git_tag", "git_commit", "trained_at",
                "api_version", "model_metrics")) {
            assertThat(second.path("parameters").path(field)).as(field).isEqualTo(first.path("parameters").path(field));
            assertThat(first.path("parameters").has(field)).as(field).isTrue();
        }
        assertThat(second.get("outputs")).isEqualTo(first.get("outputs"));
    }

    static JsonNode infer(String body) {
        var response = gateway.post("/v2/models/cached/infer", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestGateway.json(response);
    }

    @Test
    void keyOrderAndSpacingDoNotMatter() {
        predict("cached", "{\"payload\": {\"x\": 3, \"note\": \"a\"}}");
        assertThat(predict("cached", "{\"payload\": {  \"note\":\"a\", \"x\":3 }}").path("cached").asBoolean()).isTrue();
    }

    @Test
    void predictProbaIsServedFromTheSameEntries() {
        predict("cached", "{\"payload\": {\"x\": 11}}");
        JsonNode proba = TestGateway.json(gateway.post("/cached/predict_proba", "{\"payload\": {\"x\": 11}}"));
        assertThat(proba.path("cached").asBoolean()).isTrue();
        assertThat(proba.get("predictions").get(0).get("high").asDouble()).isGreaterThan(0.5);
    }

    @Test
    void aBatchWithSomeInstancesCachedIsComputedForTheRestAndNotMarked() {
        predict("cached", "{\"payload\": {\"x\": 21}}");
        JsonNode mixed = predict("cached", "{\"payload\": [{\"x\": 21}, {\"x\": -21}]}");
        assertThat(mixed.has("cached")).isFalse();
        assertThat(mixed.get("predictions")).extracting(JsonNode::asText).containsExactly("high", "low");
        assertThat(predict("cached", "{\"payload\": [{\"x\": -21}, {\"x\": 21}]}").path("cached").asBoolean()).isTrue();
    }

    @Test
    void hitsAndMissesAreCounted() {
        double hits = metric("mlserver_cache_lookups_total{classifier=\"cached\",result=\"hit\",version=\"1.0.0\"}");
        double misses = metric("mlserver_cache_lookups_total{classifier=\"cached\",result=\"miss\",version=\"1.0.0\"}");
        predict("cached", "{\"payload\": [{\"x\": 31}, {\"x\": 32}]}");
        predict("cached", "{\"payload\": {\"x\": 31}}");
        assertThat(metric("mlserver_cache_lookups_total{classifier=\"cached\",result=\"hit\",version=\"1.0.0\"}")).isEqualTo(hits + 1);
        assertThat(metric("mlserver_cache_lookups_total{classifier=\"cached\",result=\"miss\",version=\"1.0.0\"}")).isEqualTo(misses + 2);
    }

    @Test
    void invalidInputIsNeverCached() {
        for (int i = 0; i < 2; i++) {
            var response = gateway.post("/cached/predict", "{\"payload\": {\"x\": \"NaN?\"}}");
            assertThat(response.statusCode()).isEqualTo(400);
        }
    }

    @Test
    void entriesExpireAfterTheTtl() {
        predict("brief", "{\"payload\": {\"x\": 1}}");
        assertThat(predict("brief", "{\"payload\": {\"x\": 1}}").path("cached").asBoolean()).isTrue();
        await().pollDelay(Duration.ofMillis(400)).atMost(Duration.ofSeconds(30))
                .until(() -> !predict("brief", "{\"payload\": {\"x\": 1}}").path("cached").asBoolean());
    }

    @Test
    void aNewVersionNeverAnswersFromTheOldOnesEntries() {
        predict("versioned", "{\"payload\": {\"x\": 5}}");
        assertThat(predict("versioned", "{\"payload\": {\"x\": 5}}").path("cached").asBoolean()).isTrue();
        Path v2 = PluginJars.plugin("versioned").version("2.0.0").classifier(FixtureClassifier.class)
                .yaml("cache: {max_entries: 100}\n").writeTo(later, "versioned.jar");
        gateway.gateway().registry().load(v2);
        JsonNode answer = predict("versioned", "{\"payload\": {\"x\": 5}}");
        assertThat(answer.path("metadata").path("version").asText()).isEqualTo("2.0.0");
        assertThat(answer.has("cached")).isFalse();
    }

    @Test
    void aClassifierWithoutACacheIsNeverMarked() {
        String iris = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";
        predict("iris", iris);
        assertThat(predict("iris", iris).has("cached")).isFalse();
    }

    @Test
    void aBadCacheSettingFailsThatPluginWithTheReason() {
        JsonNode plugins = TestGateway.json(gateway.get("/classifiers")).get("plugins");
        JsonNode bad = null;
        for (JsonNode p : plugins) {
            if (p.path("jar").asText().equals("misconfigured.jar")) {
                bad = p;
            }
        }
        assertThat(bad).isNotNull();
        assertThat(bad.path("state").asText()).isEqualTo("failed");
        assertThat(bad.path("reason").asText()).contains("cache.max_entries");
    }

    static double metric(String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(gateway.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
