package dev.mlserver.gateway.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.config.ConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PredictionCacheTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    static PredictionCache cache(String version) {
        return PredictionCache.create(version, new PredictionCache.Settings(100, Duration.ofMinutes(1)));
    }

    @Test
    void keysIgnoreObjectKeyOrderAndWhitespaceAtEveryDepth() throws Exception {
        PredictionCache cache = cache("1.0.0");
        assertThat(cache.key(json("{\"a\": 1, \"b\": {\"d\": [1, {\"f\": 2, \"e\": 3}], \"c\": \"x\"}}")))
                .isEqualTo(cache.key(json("{ \"b\":{\"c\":\"x\",\"d\":[1,{\"e\":3,\"f\":2}]},\"a\":1}")));
    }

    @Test
    void keysKeepArrayOrderAndNumberTypes() throws Exception {
        PredictionCache cache = cache("1.0.0");
        assertThat(cache.key(json("[1, 2]"))).isNotEqualTo(cache.key(json("[2, 1]")));
        assertThat(cache.key(json("{\"x\": 1}"))).isNotEqualTo(cache.key(json("{\"x\": 1.0}")));
        assertThat(cache.key(json("{\"x\": \"1\"}"))).isNotEqualTo(cache.key(json("{\"x\": 1}")));
    }

    @Test
    void keysHoldTheVersion() throws Exception {
        JsonNode instance = json("{\"x\": 1}");
        assertThat(cache("1.0.0").key(instance)).isNotEqualTo(cache("1.0.1").key(instance));
    }

    @Test
    void anInstanceLargerThanTheKeyLimitIsNotCached() throws Exception {
        String big = "x".repeat(PredictionCache.MAX_KEY_CHARS);
        assertThat(cache("1").key(json("{\"text\": \"" + big + "\"}"))).isEmpty();
        assertThat(cache("1").key(json("{\"text\": \"short\"}"))).isPresent();
    }

    @Test
    void settingsParseSizesAndDurations() throws Exception {
        assertThat(PredictionCache.Settings.parse(json("{\"max_entries\": 50, \"ttl\": \"30s\"}"), "cache"))
                .contains(new PredictionCache.Settings(50, Duration.ofSeconds(30)));
        assertThat(PredictionCache.Settings.parse(json("{\"ttl\": \"250ms\"}"), "cache"))
                .contains(new PredictionCache.Settings(PredictionCache.DEFAULT_MAX_ENTRIES, Duration.ofMillis(250)));
        assertThat(PredictionCache.Settings.parse(json("{\"ttl\": 90}"), "cache").orElseThrow().ttl()).isEqualTo(Duration.ofSeconds(90));
        assertThat(PredictionCache.Settings.parse(json("{\"ttl\": \"2h\"}"), "cache").orElseThrow().ttl()).isEqualTo(Duration.ofHours(2));
        assertThat(PredictionCache.Settings.parse(json("{\"max_entries\": 0}"), "cache")).isEmpty();
        assertThat(PredictionCache.Settings.parse(null, "cache")).isEmpty();
    }

    @Test
    void badSettingsFailWithTheKeyNamed() {
        assertThatThrownBy(() -> PredictionCache.Settings.parse(json("{\"max_entries\": -1}"), "cache"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_entries");
        assertThatThrownBy(() -> PredictionCache.Settings.parse(json("{\"max_entries\": 100000000}"), "cache"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_entries");
        assertThatThrownBy(() -> PredictionCache.Settings.parse(json("{\"ttl\": \"soon\"}"), "cache"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cache.ttl");
        assertThatThrownBy(() -> PredictionCache.Settings.parse(json("{\"ttl\": \"0s\"}"), "cache"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ttl");
        assertThatThrownBy(() -> PredictionCache.Settings.parse(json("{\"size\": 3}"), "cache"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cache.size");
    }
}
