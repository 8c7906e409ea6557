package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every route the gateway declares, asked over a real socket with no token, a wrong token,
 * another classifier's token and the right token, against the {@link Access} it declares. The
 * routes come from the gateway's own {@link RouteTable}, so a route added later is checked here
 * without a line of this test changing. Run twice: plain URLs and versioned URLs.
 */
class RoutePolicyTest {
    /** The classifier the right token may call, and the one the other token may call. */
    static final String MINE = "tulip-k4";
    static final String THEIRS = "orchid-q7";
    /** A plugin that fails to open: its name and reason are inventory too. */
    static final String BROKEN = "broken-z9";
    static final String MINE_TOKEN = "mine-3f9a0c6e1b7d2485";
    static final String THEIRS_TOKEN = "theirs-8b1e4d7c2a905f36";
    static final String OPS_TOKEN = "ops-5c2d9e0a7f1b3864";
    static final String WRONG_TOKEN = "wrong-0e7a3c9d5b1f2468";
    static final String BODY = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    /** What the policy test of each declared route needs the table to hold, at least. */
    static final List<String> EXPECTED = List.of("health_live", "health_ready", "metrics", "classifiers", "console",
            "docs", "docs_file", "favicon", "status", "openapi", "admin_plugins", "admin_reload", "predict",
            "predict_proba", "ready", "describe");

    @TempDir
    static Path dir;
    static TestGateway plain;
    static TestGateway versioned;

    enum Caller { NO_TOKEN, WRONG_TOKEN, OTHER_CLASSIFIERS_TOKEN, RIGHT_TOKEN }

    @BeforeAll
    static void start() throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path iris = TestGateway.examplePlugins().resolve("iris.jar");
        PluginJars.renamed(iris, plugins, MINE, "1.4.2");
        PluginJars.renamed(iris, plugins, THEIRS, "3.0.1");
        PluginJars.plugin(BROKEN).classifier(FixtureClassifier.class).yaml("fail: open\n").writeTo(plugins, BROKEN + ".jar");
        String yaml = """
                security:
                  tokens:
                    mine:
                      token_env: MINE
                      classifiers: [%s]
                    theirs:
                      token_env: THEIRS
                      classifiers: [%s]
                    ops:
                      token_env: OPS
                      admin: true
                      metrics: true
                  open_metrics: false
                admin:
                  enabled: true
                plugins:
                  watch: false
                """.formatted(MINE, THEIRS);
        Map<String, String> env = Map.of("MINE", MINE_TOKEN, "THEIRS", THEIRS_TOKEN, "OPS", OPS_TOKEN);
        plain = TestGateway.start(plugins, yaml, env);
        versioned = TestGateway.start(plugins, yaml + "api:\n  include_version_in_url: true\n", env);
    }

    @AfterAll
    static void stop() {
        if (plain != null) {
            plain.close();
        }
        if (versioned != null) {
            versioned.close();
        }
    }

    @Test
    void theTableHoldsEveryRouteOfTheContract() {
        for (TestGateway gateway : List.of(plain, versioned)) {
            List<String> names = gateway.gateway().routes().routes().stream().map(Route::name).toList();
            assertThat(names).containsAll(EXPECTED);
        }
        assertThat(versioned.gateway().routes().find("predict").orElseThrow().path()).isEqualTo("/v1/:classifier/predict");
    }

    @TestFactory
    Stream<DynamicTest> everyDeclaredRouteAnswersEveryCallerAsItsAccessSays() {
        List<DynamicTest> tests = new ArrayList<>();
        for (TestGateway gateway : List.of(plain, versioned)) {
            String urls = gateway == plain ? "plain" : "versioned";
            for (Route route : gateway.gateway().routes().routes()) {
                for (Caller caller : Caller.values()) {
                    tests.add(DynamicTest.dynamicTest(urls + " " + route.name() + " " + route.method() + " "
                            + route.path() + ", " + caller, () -> check(gateway, route, caller)));
                }
            }
        }
        return tests.stream();
    }

    private static void check(TestGateway gateway, Route route, Caller caller) {
        HttpResponse<String> response = send(gateway, route, token(route.access(), caller));
        String what = route.method() + " " + path(route) + " as " + caller + ": " + response.body();
        assertThat(response.statusCode()).as(what).isLessThan(500);
        switch (expected(route.access(), caller)) {
            case 401 -> {
                assertThat(response.statusCode()).as(what).isEqualTo(401);
                assertThat(response.headers().firstValue("WWW-Authenticate").orElse("")).as(what).startsWith("Bearer");
                assertThat(code(response)).as(what).isEqualTo("unauthorized");
            }
            case 403 -> {
                assertThat(response.statusCode()).as(what).isEqualTo(403);
                assertThat(code(response)).as(what).isEqualTo("forbidden");
            }
            default -> {
                assertThat(response.statusCode()).as(what).isNotIn(401, 403);
                if (caller == Caller.RIGHT_TOKEN && onlyClassifierParameter(route)) {
                    assertThat(response.statusCode()).as(what).isBetween(200, 299);
                }
            }
        }
        // the inventory: which classifiers exist, their versions, and which plugins failed and why
        if (caller == Caller.NO_TOKEN || caller == Caller.WRONG_TOKEN) {
            assertThat(response.body()).as(what).doesNotContain(MINE, THEIRS, BROKEN, "1.4.2", "3.0.1", "fixture refuses");
        } else if (caller == Caller.OTHER_CLASSIFIERS_TOKEN && route.access() != Access.CLASSIFIER) {
            // (a refusal on a classifier route quotes the name the caller sent; nothing more)
            assertThat(response.body()).as(what).doesNotContain(MINE, BROKEN, "1.4.2", "fixture refuses");
        } else if (caller == Caller.RIGHT_TOKEN && route.access() == Access.TOKEN) {
            assertThat(response.body()).as(what).contains(MINE).doesNotContain(THEIRS, BROKEN, "fixture refuses");
        }
    }

    /** The status the declared access gives {@code caller}; 0 for "let through". */
    static int expected(Access access, Caller caller) {
        return switch (access) {
            case OPEN -> 0;
            case TOKEN -> caller == Caller.NO_TOKEN || caller == Caller.WRONG_TOKEN ? 401 : 0;
            case METRICS, CLASSIFIER, ADMIN -> switch (caller) {
                case NO_TOKEN, WRONG_TOKEN -> 401;
                case OTHER_CLASSIFIERS_TOKEN -> 403;
                case RIGHT_TOKEN -> 0;
            };
        };
    }

    /** The token {@code caller} sends to a route of {@code access}; null for none. */
    static String token(Access access, Caller caller) {
        return switch (caller) {
            case NO_TOKEN -> null;
            case WRONG_TOKEN -> WRONG_TOKEN;
            case OTHER_CLASSIFIERS_TOKEN -> THEIRS_TOKEN;
            case RIGHT_TOKEN -> access == Access.ADMIN || access == Access.METRICS ? OPS_TOKEN : MINE_TOKEN;
        };
    }

    /** The route's path for {@link #MINE}; any other parameter is {@code x}. */
    static String path(Route route) {
        return route.openApiPath(MINE).replaceAll("\\{[^}]+}", "x");
    }

    static boolean onlyClassifierParameter(Route route) {
        return !route.openApiPath(MINE).contains("{");
    }

    static HttpResponse<String> send(TestGateway gateway, Route route, String token) {
        HttpRequest.BodyPublisher body = route.method().name().equals("POST")
                ? HttpRequest.BodyPublishers.ofString(BODY) : HttpRequest.BodyPublishers.noBody();
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path(route))).method(route.method().name(), body);
        if (route.method().name().equals("POST")) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return gateway.send(request.build());
    }

    static String code(HttpResponse<String> response) {
        JsonNode body = TestGateway.json(response);
        return body.path("error").path("code").asText();
    }
}
