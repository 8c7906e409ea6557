package dev.mlserver.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Bearer tokens per classifier, over a real socket, against the real iris plugin and a renamed copy. */
class TokenAuthTest {
    static final String IRIS_TOKEN = "iris-team-7c1f0e9a52b44d0f";
    static final String IRIS_TOKEN_NEXT = "iris-team-next-93be11d0c6a7";
    static final String OTHER_TOKEN = "other-team-0d8a6e2c91f35b7a";
    static final String ALL_TOKEN = "all-classifiers-5b2e8f10c4d9";
    static final String OPS_TOKEN = "ops-admin-8e4c2a6f1b9d7035";
    static final String BODY = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @TempDir
    static Path dir;
    static TestGateway gateway;
    static ListAppender<ILoggingEvent> logs = new ListAppender<>();
    static ch.qos.logback.classic.Level rootLevel;

    @BeforeAll
    static void start() throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path iris = TestGateway.examplePlugins().resolve("iris.jar");
        Files.copy(iris, plugins.resolve("iris.jar"), StandardCopyOption.REPLACE_EXISTING);
        PluginJars.renamed(iris, plugins, "other", "2.0.0");
        // two lines: the current token and the next one, as during a rotation
        Path irisTokens = Files.writeString(dir.resolve("iris.token"), IRIS_TOKEN + "\n" + IRIS_TOKEN_NEXT + "\n");
        Path opsToken = Files.writeString(dir.resolve("ops.token"), OPS_TOKEN + "\n");
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        // another test in this JVM may have quietened the libraries (the CLI does): hear everything
        rootLevel = root.getLevel();
        root.setLevel(ch.qos.logback.classic.Level.INFO);
        root.addAppender(logs);
        logs.start();
        gateway = TestGateway.start(plugins, """
                security:
                  tokens:
                    team-iris:
                      token_file: %s
                      classifiers: [iris]
                    team-other:
                      token_env: TOKEN_OTHER
                      classifiers: other
                    everything:
                      token_env: TOKEN_ALL
                      classifiers: ["*"]
                    ops:
                      token_file: %s
                      admin: true
                      metrics: true
                  open_metrics: false
                """.formatted(irisTokens, opsToken), Map.of("TOKEN_OTHER", OTHER_TOKEN, "TOKEN_ALL", ALL_TOKEN));
    }

    @AfterAll
    static void stop() {
        gateway.close();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAppender(logs);
        root.setLevel(rootLevel);
    }

    static HttpResponse<String> post(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return gateway.send(request.build());
    }

    static HttpResponse<String> get(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return gateway.send(request.build());
    }

    static void assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = TestGateway.json(response);
        assertThat(body.path("error").path("code").asText()).isEqualTo(code);
        assertThat(body.has("metadata")).as("no classifier metadata before authorisation").isFalse();
    }

    @Test
    void noTokenIs401WithABearerChallenge() {
        HttpResponse<String> response = post("/iris/predict", null);
        assertError(response, 401, "unauthorized");
        assertThat(response.headers().firstValue("WWW-Authenticate")).contains("Bearer");
    }

    @Test
    void anUnknownTokenIs401InvalidToken() {
        HttpResponse<String> response = post("/iris/predict", "not-a-token-of-ours-123456");
        assertError(response, 401, "unauthorized");
        assertThat(response.headers().firstValue("WWW-Authenticate").orElse("")).contains("invalid_token");
    }

    @Test
    void aNonBearerSchemeIs401() {
        HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                .header("Authorization", "Basic " + IRIS_TOKEN).POST(HttpRequest.BodyPublishers.ofString(BODY)).build());
        assertError(response, 401, "unauthorized");
    }

    @Test
    void theRightTokenIs200() {
        HttpResponse<String> response = post("/iris/predict", IRIS_TOKEN);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(TestGateway.json(response).get("predictions").get(0).asText()).isEqualTo("setosa");
    }

    @Test
    void theSchemeIsCaseInsensitive() {
        HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                .header("Authorization", "bearer " + IRIS_TOKEN).POST(HttpRequest.BodyPublishers.ofString(BODY)).build());
        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void bothTokensOfARotationAreAccepted() {
        assertThat(post("/iris/predict", IRIS_TOKEN_NEXT).statusCode()).isEqualTo(200);
    }

    @Test
    void aTokenForClassifierACallingBIs403() {
        HttpResponse<String> response = post("/other/predict", IRIS_TOKEN);
        assertError(response, 403, "forbidden");
        assertThat(TestGateway.json(response).path("error").path("message").asText())
                .contains("team-iris").contains("other").doesNotContain(IRIS_TOKEN);
        assertError(post("/iris/predict_proba", OTHER_TOKEN), 403, "forbidden");
        assertError(get("/iris", OTHER_TOKEN), 403, "forbidden");
    }

    @Test
    void aTokenFromTheEnvironmentWorks() {
        assertThat(post("/other/predict", OTHER_TOKEN).statusCode()).isEqualTo(200);
    }

    @Test
    void aWildcardTokenCallsEveryClassifierAndSees404ForUnknownOnes() {
        assertThat(post("/iris/predict", ALL_TOKEN).statusCode()).isEqualTo(200);
        assertThat(post("/other/predict", ALL_TOKEN).statusCode()).isEqualTo(200);
        assertError(post("/nope/predict", ALL_TOKEN), 404, "unknown_classifier");
    }

    @Test
    void aLimitedTokenCannotProbeWhichClassifiersExist() {
        assertError(post("/nope/predict", IRIS_TOKEN), 403, "forbidden");
    }

    @Test
    void healthStaysOpen() {
        assertThat(get("/health/live", null).statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get("/health/ready", null);
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).as("counts, never names").doesNotContain("iris", "other");
    }

    @Test
    void perClassifierReadinessNeedsThatClassifiersToken() {
        // open, it would tell anyone which classifiers exist: 200 for a served name, 404 for another
        assertError(get("/iris/ready", null), 401, "unauthorized");
        assertError(get("/nope/ready", null), 401, "unauthorized");
        assertError(get("/iris/ready", OTHER_TOKEN), 403, "forbidden");
        assertError(get("/nope/ready", IRIS_TOKEN), 403, "forbidden");
        assertThat(get("/iris/ready", IRIS_TOKEN).statusCode()).isEqualTo(200);
    }

    @Test
    void withoutATokenNoRouteShowsWhichClassifiersExist() {
        for (String path : List.of("/status", "/openapi.json", "/classifiers", "/iris", "/other", "/nope")) {
            HttpResponse<String> response = get(path, null);
            assertError(response, 401, "unauthorized");
            assertThat(response.body()).as(path).doesNotContain("iris", "other", "1.0.0", "2.0.0");
        }
        for (String page : List.of("/", "/docs", "/docs/console.js", "/docs/docs.js")) {
            HttpResponse<String> response = get(page, null);
            assertThat(response.statusCode()).as(page).isEqualTo(200);
            assertThat(response.body()).as(page + " is a page file, no data").doesNotContain("iris", "2.0.0");
        }
    }

    @Test
    void aLimitedTokenSeesOnlyItsOwnClassifiersInEveryList() {
        JsonNode classifiers = TestGateway.json(get("/classifiers", OTHER_TOKEN));
        assertThat(classifiers.get("classifiers")).extracting(c -> c.get("name").asText()).containsExactly("other");
        assertThat(classifiers.get("plugins")).extracting(p -> p.get("jar").asText()).containsExactly("other.jar");
        JsonNode status = TestGateway.json(get("/status", OTHER_TOKEN));
        assertThat(status.get("classifiers")).extracting(c -> c.get("name").asText()).containsExactly("other");
        assertThat(status.get("plugins")).extracting(p -> p.get("classifier").asText()).containsExactly("other");
        HttpResponse<String> openApi = get("/openapi.json", OTHER_TOKEN);
        assertThat(openApi.statusCode()).isEqualTo(200);
        assertThat(TestGateway.json(openApi).get("paths").has("/other/predict")).isTrue();
        assertThat(openApi.body()).doesNotContain("/iris");
        JsonNode everything = TestGateway.json(get("/classifiers", ALL_TOKEN));
        assertThat(everything.get("classifiers")).extracting(c -> c.get("name").asText())
                .containsExactlyInAnyOrder("iris", "other");
    }

    @Test
    void aWrongMethodOnAClassifierPathIsCheckedLikeTheRouteItself() {
        // 405 would tell that iris exists and 404 that nope does not: so first the token, as for GET
        assertError(post("/iris", null), 401, "unauthorized");
        assertError(post("/nope", IRIS_TOKEN), 403, "forbidden");
        HttpResponse<String> wrongMethod = post("/iris", IRIS_TOKEN);
        assertError(wrongMethod, 405, "method_not_allowed");
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("GET");
        assertError(post("/nope", ALL_TOKEN), 404, "unknown_classifier");
    }

    @Test
    void closedMetricsNeedAMetricsToken() {
        assertError(get("/metrics", null), 401, "unauthorized");
        assertError(get("/metrics", IRIS_TOKEN), 403, "forbidden");
        HttpResponse<String> response = get("/metrics", OPS_TOKEN);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("mlserver_auth_rejections_total{reason=\"missing_token\"}");
    }

    @Test
    void adminRoutesNeedAnAdminToken() {
        assertError(get("/admin/plugins", null), 401, "unauthorized");
        assertError(get("/admin/plugins", ALL_TOKEN), 403, "forbidden");
        assertError(post("/admin/plugins/reload", IRIS_TOKEN), 403, "forbidden");
        // past the guard: whatever /admin serves (here nothing) answers
        assertThat(get("/admin/plugins", OPS_TOKEN).statusCode()).isNotIn(401, 403);
    }

    @Test
    void theClassifierListNeedsAnyValidToken() {
        assertError(get("/classifiers", null), 401, "unauthorized");
        assertError(get("/classifiers", "not-a-token-of-ours-123456"), 401, "unauthorized");
        assertThat(get("/classifiers", OTHER_TOKEN).statusCode()).isEqualTo(200);
        assertThat(get("/classifiers", OPS_TOKEN).statusCode()).isEqualTo(200);
    }

    @Test
    void pathTricksDoNotGetPastTheGuard() {
        assertError(post("/health/../iris/predict", null), 401, "unauthorized");
        assertError(post("/health/%2e%2e/iris/predict", null), 401, "unauthorized");
        assertError(post("/%69ris/predict", OTHER_TOKEN), 403, "forbidden");
        assertError(post("/iris/ready/../predict", OTHER_TOKEN), 403, "forbidden");
        HttpResponse<String> slash = post("/health%2F..%2Firis/predict", null);
        assertError(slash, 401, "unauthorized");
    }

    @Test
    void noTokenValueEverAppearsInTheLogs() {
        post("/iris/predict", "a-wrong-token-value-4242424242");
        post("/other/predict", IRIS_TOKEN);
        post("/iris/predict", IRIS_TOKEN);
        List<ILoggingEvent> events;
        synchronized (logs) { // the appender adds from server threads under this lock
            events = new java.util.ArrayList<>(logs.list);
        }
        assertThat(events).isNotEmpty();
        for (ILoggingEvent event : events) {
            assertThat(event.getFormattedMessage()).doesNotContain(IRIS_TOKEN, IRIS_TOKEN_NEXT, OTHER_TOKEN, ALL_TOKEN,
                    OPS_TOKEN, "a-wrong-token-value-4242424242");
        }
    }
}
