package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * 404 and 405, derived from the route table: every other method on a declared path is a 405 with
 * {@code Allow} listing the declared ones; any method on a classifier path naming a classifier
 * that is not served is a 404 {@code unknown_classifier}; a path no route has is a 404
 * {@code not_found}. Over a real socket, for every route the gateway declares.
 */
class RouteAnswersTest {
    static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH");
    static final String BODY = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        gateway = TestGateway.start(plugins, "admin:\n  enabled: true\nplugins:\n  watch: false\n");
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    /** The declared methods of each path, in table order. */
    static Map<String, Set<String>> methodsByPath() {
        Map<String, Set<String>> byPath = new LinkedHashMap<>();
        for (Route route : gateway.gateway().routes().routes()) {
            byPath.computeIfAbsent(route.path(), p -> new LinkedHashSet<>()).add(route.method().name());
        }
        return byPath;
    }

    static String concrete(String path, String classifier) {
        return path.replace(":" + Route.CLASSIFIER, classifier).replaceAll(":[A-Za-z0-9_]+", "x");
    }

    @TestFactory
    Stream<DynamicTest> anotherMethodOnADeclaredPathIs405WithTheDeclaredOnesInAllow() {
        List<DynamicTest> tests = new ArrayList<>();
        methodsByPath().forEach((path, declared) -> {
            for (String method : METHODS) {
                if (declared.contains(method)) {
                    continue;
                }
                String target = concrete(path, "iris");
                tests.add(DynamicTest.dynamicTest(method + " " + target, () -> {
                    HttpResponse<String> response = send(method, target);
                    assertError(response, 405, "method_not_allowed");
                    assertThat(Set.of(response.headers().firstValue("Allow").orElse("").split(", ")))
                            .isEqualTo(declared);
                }));
            }
        });
        assertThat(tests).hasSizeGreaterThan(30);
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> anyMethodOnAClassifierPathOfAnUnservedClassifierIs404UnknownClassifier() {
        List<DynamicTest> tests = new ArrayList<>();
        methodsByPath().forEach((path, declared) -> {
            if (!path.contains(":" + Route.CLASSIFIER)) {
                return;
            }
            for (String method : METHODS) {
                String target = concrete(path, "nonexistent");
                tests.add(DynamicTest.dynamicTest(method + " " + target,
                        () -> assertError(send(method, target), 404, "unknown_classifier")));
            }
        });
        assertThat(tests).hasSizeGreaterThanOrEqualTo(4 * METHODS.size());
        return tests.stream();
    }

    @Test
    void postToAnUnknownNameIs404UnknownClassifierNot405() {
        assertError(send("POST", "/nonexistent"), 404, "unknown_classifier");
        HttpResponse<String> known = send("POST", "/iris");
        assertError(known, 405, "method_not_allowed");
        assertThat(known.headers().firstValue("Allow")).contains("GET");
    }

    @Test
    void aPathNoRouteHasIs404NotFoundForEveryMethod() {
        Set<String> declared = methodsByPath().keySet().stream().map(p -> concrete(p, "iris")).collect(Collectors.toSet());
        for (String path : List.of("/iris/predict/more", "/health/nothing", "/docs/a/b", "/admin/plugins/x/y",
                "/iris/ready/again", "/metrics/x/y/z")) {
            assertThat(declared).doesNotContain(path);
            for (String method : METHODS) {
                assertError(send(method, path), 404, "not_found");
            }
        }
    }

    static HttpResponse<String> send(String method, String path) {
        HttpRequest.BodyPublisher body = method.equals("GET") || method.equals("DELETE")
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(BODY);
        return gateway.send(HttpRequest.newBuilder(gateway.uri(path)).method(method, body)
                .header("Content-Type", "application/json").build());
    }

    static void assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode body = TestGateway.json(response);
        assertThat(body.path("error").path("code").asText()).as(response.body()).isEqualTo(code);
        assertThat(body.path("error").path("message").asText()).isNotBlank();
    }
}
