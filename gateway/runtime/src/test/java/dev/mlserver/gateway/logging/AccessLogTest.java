package dev.mlserver.gateway.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Access lines of a real gateway, caught beside the console and encoded as the console would. */
class AccessLogTest {
    static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    final Logger access = (Logger) LoggerFactory.getLogger("mlserver.access");

    @BeforeEach
    void catchLines() {
        lines.start();
        access.addAppender(lines);
    }

    @AfterEach
    void release() {
        access.detachAppender(lines);
        LogSetup.apply(GatewayConfig.LogFormat.JSON);
    }

    Optional<JsonNode> line(String requestId) throws Exception {
        JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        encoder.start();
        for (ILoggingEvent e : lines.list) {
            JsonNode json = TestGateway.JSON.readTree(new String(encoder.encode(e), StandardCharsets.UTF_8));
            if (json.path("request_id").asText().equals(requestId)) {
                return Optional.of(json);
            }
        }
        return Optional.empty();
    }

    JsonNode awaitLine(String requestId) {
        await().atMost(Duration.ofSeconds(30)).until(() -> line(requestId).isPresent());
        try {
            return line(requestId).orElseThrow();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void post(TestGateway gateway, String path, String body, String requestId) {
        gateway.send(HttpRequest.newBuilder(gateway.uri(path)).header("Content-Type", "application/json")
                .header("X-Request-Id", requestId).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void aPredictionGetsOneLineWithRequestIdClassifierVersionStatusAndDuration() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins())) {
            post(gateway, "/iris/predict", IRIS, "req-ok-1");
            JsonNode line = awaitLine("req-ok-1");
            assertThat(line.get("logger").asText()).isEqualTo("mlserver.access");
            assertThat(line.get("classifier").asText()).isEqualTo("iris");
            assertThat(line.get("version").asText()).isEqualTo("1.0.0");
            assertThat(line.get("route").asText()).isEqualTo("predict");
            assertThat(line.get("status").asInt()).isEqualTo(200);
            assertThat(line.get("duration_ms").asDouble()).isPositive();
            assertThat(line.has("payload")).as("payloads are not logged by default").isFalse();
            // the payload's numbers appear in no field; the timestamp and the duration are left out,
            // since a time of 00:55:15.136 or a duration of 5.138 ms holds "5.1" by chance
            ObjectNode fields = line.deepCopy();
            fields.remove(List.of("ts", "duration_ms"));
            assertThat(fields.toString()).doesNotContain("5.1").doesNotContain("3.5");
        }
    }

    @Test
    void aClientThatClosesMidBodyIsCounted499AndLogsNoError() throws Exception {
        ListAppender<ILoggingEvent> all = new ListAppender<>();
        all.start();
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(all);
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins())) {
            for (int i = 0; i < 3; i++) {
                try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
                    socket.getOutputStream().write(("POST /iris/predict HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-" + i
                            + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"payload\"")
                            .getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    Thread.sleep(100); // the headers and the first bytes are in before the close
                }
            }
            for (int i = 0; i < 3; i++) {
                assertThat(awaitLine("gone-" + i).get("status").asInt()).isEqualTo(499);
            }
            // the gateway still answers on new connections
            assertThat(gateway.post("/iris/predict", IRIS).statusCode()).isEqualTo(200);
        } finally {
            root.detachAppender(all);
        }
        // nothing logged about it above INFO: no router error, no stack trace of the closed connection
        assertThat(all.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
                .filter(e -> e.getLoggerName().startsWith("io.vertx") || (e.getThrowableProxy() != null
                        && e.getThrowableProxy().getClassName().contains("Closed")))
                .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage())).isEmpty();
    }

    @Test
    void anErrorLineCarriesItsCodeAndAGeneratedRequestIdIsLoggedAsReturned() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins())) {
            var response = gateway.post("/iris/predict", "{\"payload\": [1, 2]}");
            String id = response.headers().firstValue("X-Request-Id").orElseThrow();
            JsonNode line = awaitLine(id);
            assertThat(line.get("status").asInt()).isEqualTo(400);
            assertThat(line.get("error").asText()).isEqualTo("invalid_input");
        }
    }

    @Test
    void payloadsAreLoggedOnlyWhenConfigured() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins(), "logging: {log_payloads: true}\n")) {
            post(gateway, "/iris/predict", IRIS, "req-payload-1");
            assertThat(awaitLine("req-payload-1").get("payload").asText()).isEqualTo(IRIS);
        }
    }

    @Test
    void probesAndTheConsolesPollingWriteNoLineByDefault() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins())) {
            for (String path : new String[] {"/health/live", "/health/ready", "/status"}) {
                gateway.send(HttpRequest.newBuilder(gateway.uri(path)).header("X-Request-Id", "req-probe" + path.replace('/', '-')).build());
            }
            post(gateway, "/iris/predict", IRIS, "req-after-probes");
            awaitLine("req-after-probes");
            assertThat(lines.list).extracting(e -> e.getKeyValuePairs().toString()).noneMatch(kv -> kv.contains("req-probe"));
        }
    }

    @Test
    void probesAreLoggedWhenConfigured() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins(), "logging: {access_log_probes: true}\n")) {
            gateway.send(HttpRequest.newBuilder(gateway.uri("/health/ready")).header("X-Request-Id", "req-probe-ready").build());
            assertThat(awaitLine("req-probe-ready").get("path").asText()).isEqualTo("/health/ready");
        }
    }

    @Test
    void autoIsJsonWhenTheOutputIsNotATerminal() {
        // the build runs without a terminal; on one, a person gets readable lines
        assertThat(GatewayConfig.LogFormat.AUTO.resolve()).isEqualTo(System.console() == null
                ? GatewayConfig.LogFormat.JSON : GatewayConfig.LogFormat.TEXT);
        assertThat(GatewayConfig.Logging.DEFAULTS.format()).isEqualTo(GatewayConfig.LogFormat.AUTO);
    }

    @Test
    void accessLinesCanBeTurnedOff() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins(), "logging: {access_log: false}\n")) {
            post(gateway, "/iris/predict", IRIS, "req-quiet-1");
            post(gateway, "/iris/predict", IRIS, "req-quiet-2");
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(30)).until(() -> true);
            assertThat(lines.list).isEmpty();
        }
    }

    @Test
    void textFormatSwitchesTheConsoleToReadableLines() {
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins(), "logging: {format: text}\n")) {
            var console = ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).getAppender(LogSetup.CONSOLE);
            assertThat(((BatchingConsoleAppender) console).getEncoder())
                    .isInstanceOf(ch.qos.logback.classic.encoder.PatternLayoutEncoder.class);
            // the warm-up's discarding appender encodes as the console does
            var warmup = ((Logger) LoggerFactory.getLogger("mlserver.access.warmup")).getAppender("WARMUP");
            assertThat(((BatchingConsoleAppender) warmup).getEncoder())
                    .isInstanceOf(ch.qos.logback.classic.encoder.PatternLayoutEncoder.class);
        }
    }

    @Test
    void theWarmUpsLinesAreBuiltLikeAClientsButNeverReachTheAccessLog() {
        Logger warmupLogger = (Logger) LoggerFactory.getLogger("mlserver.access.warmup");
        ListAppender<ILoggingEvent> warmupLines = new ListAppender<>();
        warmupLines.start();
        warmupLogger.addAppender(warmupLines);
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins(),
                "warmup: {requests: 20, until_jit_quiet: false}\n")) {
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            int classifiers = TestGateway.json(gateway.get("/classifiers")).path("classifiers").size();
            // 20 on each classifier's predict route, 20 on its Open Inference Protocol REST infer route
            // and 20 ModelInfer calls on the protocol's gRPC port
            await().atMost(Duration.ofSeconds(30)).until(() -> warmupLines.list.size() == 3 * 20 * classifiers);
            assertThat(warmupLines.list).allSatisfy(e -> assertThat(e.getKeyValuePairs().toString())
                    .containsPattern("path=\"(/\\w+/predict|/v2/models/\\w+/infer|/inference.GRPCInferenceService/ModelInfer)\"")
                    .containsPattern("(status=\"200\"|grpc_status=\"OK\")"));
            assertThat(warmupLines.list).filteredOn(e -> e.getKeyValuePairs().toString().contains("/v2/models/"))
                    .hasSize(20 * classifiers);
            assertThat(warmupLines.list).filteredOn(e -> e.getKeyValuePairs().toString().contains("/ModelInfer"))
                    .hasSize(20 * classifiers);
            assertThat(lines.list).noneMatch(e -> e.getKeyValuePairs().toString().matches(".*/(predict|infer|ModelInfer)\".*"));
            post(gateway, "/iris/predict", IRIS, "req-after-warmup");
            assertThat(awaitLine("req-after-warmup").get("path").asText()).isEqualTo("/iris/predict");
        } finally {
            warmupLogger.detachAppender(warmupLines);
        }
    }
}
