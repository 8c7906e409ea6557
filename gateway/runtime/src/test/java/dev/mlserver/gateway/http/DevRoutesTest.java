package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /status, the console page and /docs over a real socket. */
class DevRoutesTest {
    @TempDir
    static Path plugins;

    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        OpenApiTest.copyExamples(plugins);
        PluginJars.plugin("slow").classifier(FixtureClassifier.class)
                .yaml("sleep_ms: 700\nlimits:\n  max_concurrent_predictions: 1\n  max_queue: 4\n  queue_timeout_ms: 10000\n")
                .writeTo(plugins, "slow.jar");
        PluginJars.plugin("broken").classifier(FixtureClassifier.class).yaml("fail: open\n").writeTo(plugins, "broken.jar");
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    private static JsonNode status() {
        HttpResponse<String> response = gateway.get("/status");
        assertThat(response.statusCode()).isEqualTo(200);
        return TestGateway.json(response);
    }

    private static JsonNode classifier(JsonNode status, String name) {
        for (JsonNode c : status.get("classifiers")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError(name + " is not in /status: " + status);
    }

    @Test
    void statusShowsInFlightAndQueuedAgainstTheLimits() {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            calls.add(gateway.client().sendAsync(HttpRequest.newBuilder(gateway.uri("/slow/predict"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"payload\": {\"x\": 1}}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        // three 700 ms predictions through one slot: for about a second, one runs and two wait
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            JsonNode slow = classifier(status(), "slow");
            assertThat(slow.get("in_flight").asInt()).isEqualTo(1);
            assertThat(slow.get("queued").asInt()).isEqualTo(2);
            assertThat(slow.get("slots_available").asInt()).isZero();
        });
        JsonNode limits = classifier(status(), "slow").get("limits");
        assertThat(limits.get("max_concurrent_predictions").asInt()).isEqualTo(1);
        assertThat(limits.get("max_queue").asInt()).isEqualTo(4);
        calls.forEach(c -> assertThat(c.join().statusCode()).isEqualTo(200));
        // the worker frees its slot just after it hands the answer to the event loop
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode after = classifier(status(), "slow");
            assertThat(after.get("in_flight").asInt()).isZero();
            assertThat(after.get("slots_available").asInt()).isEqualTo(1);
        });
    }

    @Test
    void statusCountsTheLastMinuteOfOneClassifier() {
        long before = classifier(status(), "iris").get("last_minute").get("requests").asLong();
        for (int i = 0; i < 5; i++) {
            assertThat(gateway.post("/iris/predict", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}").statusCode()).isEqualTo(200);
        }
        assertThat(gateway.post("/iris/predict", "{\"payload\": [1, 2]}").statusCode()).isEqualTo(400);
        // a request is counted when its response has ended, a moment after the client has it
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(classifier(status(), "iris").get("last_minute").get("requests").asLong()).isEqualTo(before + 6));
        JsonNode minute = classifier(status(), "iris").get("last_minute");
        assertThat(minute.get("client_errors").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(minute.get("server_errors").asLong()).isZero();
        assertThat(minute.get("p50_ms").asDouble()).isPositive();
        assertThat(minute.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(minute.get("p50_ms").asDouble());
        assertThat(minute.get("rate_per_second").asDouble()).isPositive();
    }

    @Test
    void statusNamesEachClassifiersBuildAndRoutes() {
        JsonNode iris = classifier(status(), "iris");
        JsonNode described = TestGateway.json(gateway.get("/iris"));
        assertThat(iris.get("version").asText()).isEqualTo(described.get("version").asText());
        assertThat(iris.get("git_commit").asText()).isEqualTo(described.get("metadata").get("git_commit").asText());
        assertThat(iris.get("state").asText()).isEqualTo("ready");
        assertThat(iris.get("routes").get("predict").asText()).isEqualTo("/iris/predict");
        assertThat(iris.get("routes").get("describe").asText()).isEqualTo("/iris");
        assertThat(status().get("gateway").get("plugins_loaded").asBoolean()).isTrue();
    }

    @Test
    void statusListsAFailedPluginWithItsReason() {
        JsonNode broken = null;
        for (JsonNode p : status().get("plugins")) {
            if (p.get("jar").asText().equals("broken.jar")) {
                broken = p;
            }
        }
        assertThat(broken).isNotNull();
        assertThat(broken.get("state").asText()).isEqualTo("failed");
        assertThat(broken.get("reason").asText()).contains("fixture refuses to open");
    }

    @Test
    void theConsoleAndItsFilesComeFromTheGatewayAlone() {
        for (String page : List.of("/", "/docs")) {
            HttpResponse<String> response = gateway.get(page);
            assertThat(response.statusCode()).as(page).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).as(page).hasValue("text/html; charset=utf-8");
            Matcher refs = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(response.body());
            int count = 0;
            while (refs.find()) {
                String ref = refs.group(1);
                assertThat(ref).as(page + " refers to " + ref).startsWith("/");
                assertThat(gateway.get(ref).statusCode()).as(ref).isEqualTo(200);
                count++;
            }
            assertThat(count).as(page).isGreaterThanOrEqualTo(3);
        }
        assertThat(gateway.get("/docs/swagger-ui-bundle.js").headers().firstValue("Content-Type"))
                .hasValue("text/javascript; charset=utf-8");
    }

    @Test
    void anUnchangedFileIsAnsweredWith304() {
        HttpResponse<String> first = gateway.get("/docs/console.js");
        String etag = first.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = gateway.send(HttpRequest.newBuilder(gateway.uri("/docs/console.js"))
                .header("If-None-Match", etag).GET().build());
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
    }

    @Test
    void anUnknownDocsFileIsAJson404() {
        for (String path : List.of("/docs/nope.js", "/docs/..%2Fpom.xml", "/docs/index.html%00")) {
            HttpResponse<String> response = gateway.get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(TestGateway.json(response).get("error").get("code").asText()).as(path).isEqualTo("not_found");
        }
    }

    @Test
    void postingToStatusIsA405() {
        HttpResponse<String> response = gateway.post("/status", "{}");
        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(TestGateway.json(response).get("error").get("code").asText()).isEqualTo("method_not_allowed");
    }
}
