package dev.mlserver.gateway.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonLineEncoderTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
    final Logger logger = context.getLogger("mlserver.test");

    String encode(LoggingEvent event) {
        JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext(context);
        encoder.start();
        return new String(encoder.encode(event), StandardCharsets.UTF_8);
    }

    @Test
    void anEventIsOneJsonObjectOnOneLineWithItsKeyValuesAsFields() throws Exception {
        LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "served {} in \"{}\"", null,
                new Object[] {"iris", "a\nb"});
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("status", 200));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("duration_ms", 1.25));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("cached", true));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("request_id", "r-1"));
        String line = encode(event);
        assertThat(line).endsWith("\n");
        assertThat(line.substring(0, line.length() - 1)).doesNotContain("\n");
        JsonNode json = JSON.readTree(line);
        assertThat(json.get("level").asText()).isEqualTo("INFO");
        assertThat(json.get("logger").asText()).isEqualTo("mlserver.test");
        assertThat(json.get("msg").asText()).isEqualTo("served iris in \"a\nb\"");
        assertThat(json.get("status").isInt()).isTrue();
        assertThat(json.get("duration_ms").asDouble()).isEqualTo(1.25);
        assertThat(json.get("cached").isBoolean()).isTrue();
        assertThat(json.get("request_id").asText()).isEqualTo("r-1");
        assertThat(json.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    }

    @Test
    void anExceptionBecomesErrorAndStackFields() throws Exception {
        LoggingEvent event = new LoggingEvent("x", logger, Level.ERROR, "failed", new IllegalStateException("boom"), null);
        JsonNode json = JSON.readTree(encode(event));
        assertThat(json.get("error").asText()).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(json.get("stack").asText()).contains("JsonLineEncoderTest");
    }

    @Test
    void stringsAreEscapedAndEncodedAsUtf8() throws Exception {
        String text = "quote \" backslash \\ tab \t nul \u0000 bell \u0007 del \u007f é € 😀 end";
        LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "m", null, null);
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("text", text));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("lone", "a\ud800b"));
        String line = encode(event);
        assertThat(line.substring(0, line.length() - 1)).doesNotContain("\n").doesNotContain("\t");
        JsonNode json = JSON.readTree(line);
        assertThat(json.get("text").asText()).isEqualTo(text);
        assertThat(json.get("lone").asText()).isEqualTo("a\ufffdb");
    }

    @Test
    void theTimestampReadsAsInstantWritesIt() throws Exception {
        for (long millis : new long[] {1_790_000_000_000L, 1_790_000_000_007L, 1_790_000_000_120L, 1_790_000_001_999L}) {
            LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "m", null, null);
            event.setTimeStamp(millis);
            assertThat(JSON.readTree(encode(event)).get("ts").asText())
                    .isEqualTo(java.time.Instant.ofEpochMilli(millis).toString());
        }
    }

    @Test
    void numbersBooleansAndNullsKeepTheirJsonTypes() throws Exception {
        LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "m", null, null);
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("long", Long.MIN_VALUE));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("double", 0.001));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("nan", Double.NaN));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("no", false));
        event.addKeyValuePair(new org.slf4j.event.KeyValuePair("nothing", null));
        JsonNode json = JSON.readTree(encode(event));
        assertThat(json.get("long").asLong()).isEqualTo(Long.MIN_VALUE);
        assertThat(json.get("double").isDouble()).isTrue();
        assertThat(json.get("double").asDouble()).isEqualTo(0.001);
        assertThat(json.get("nan").asText()).isEqualTo("NaN");
        assertThat(json.get("no").isBoolean()).isTrue();
        assertThat(json.get("nothing").isNull()).isTrue();
    }
}
