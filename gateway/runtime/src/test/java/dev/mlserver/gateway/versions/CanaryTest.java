package dev.mlserver.gateway.versions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A weighted share of the unpinned requests answered by a canary version. */
class CanaryTest {
    static final String X = "{\"payload\": {\"x\": 2}}";

    @TempDir
    Path plugins;

    private void versions() {
        PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.0.0.jar");
        PluginJars.plugin("fixture").version("1.1.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.1.0.jar");
    }

    private static String canary(int weight, String sticky) {
        return """
                classifiers:
                  fixture:
                    default_version: 1.0.0
                    canary: {version: 1.1.0, weight: %d%s}
                """.formatted(weight, sticky.isEmpty() ? "" : ", sticky_header: " + sticky);
    }

    @Test
    void theCanaryTakesItsWeightWithinThreePointsOverFourThousandRequests() throws Exception {
        versions();
        try (TestGateway gateway = TestGateway.start(plugins, canary(20, ""))) {
            int total = 4000;
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                answers.add(pool.submit(() -> {
                    HttpResponse<String> r = gateway.post("/fixture/predict", X);
                    assertThat(r.statusCode()).isEqualTo(200);
                    String header = r.headers().firstValue("X-Model-Version").orElseThrow();
                    assertThat(TestGateway.json(r).at("/metadata/version").asText()).isEqualTo(header);
                    return header;
                }));
            }
            int canary = 0;
            for (Future<String> answer : answers) {
                canary += answer.get().equals("1.1.0") ? 1 : 0;
            }
            pool.shutdown();
            double share = 100.0 * canary / total;
            assertThat(share).as("canary share in percent").isBetween(17.0, 23.0);
        }
    }

    @Test
    void aStickyHeaderKeepsEachCallerOnOneVersion() {
        versions();
        try (TestGateway gateway = TestGateway.start(plugins, canary(50, "X-User-Id"))) {
            Set<String> seen = new HashSet<>();
            for (int caller = 0; caller < 40; caller++) {
                Set<String> versions = new HashSet<>();
                for (int r = 0; r < 10; r++) {
                    HttpRequest request = HttpRequest.newBuilder(gateway.uri("/fixture/predict"))
                            .header("Content-Type", "application/json").header("X-User-Id", "user-" + caller)
                            .POST(HttpRequest.BodyPublishers.ofString(X)).build();
                    versions.add(gateway.send(request).headers().firstValue("X-Model-Version").orElseThrow());
                }
                assertThat(versions).as("versions seen by user-" + caller).hasSize(1);
                seen.addAll(versions);
            }
            assertThat(seen).as("40 callers at 50 %: both versions reached").containsExactlyInAnyOrder("1.0.0", "1.1.0");
        }
    }

    @Test
    void pinnedRoutesAreNotSplit() {
        versions();
        try (TestGateway gateway = TestGateway.start(plugins, canary(100, ""))) {
            for (int i = 0; i < 20; i++) {
                assertThat(gateway.post("/fixture/versions/1.0.0/predict", X).headers().firstValue("X-Model-Version"))
                        .contains("1.0.0");
                assertThat(gateway.post("/fixture/predict", X).headers().firstValue("X-Model-Version")).contains("1.1.0");
            }
        }
    }

    @Test
    void aCanaryThatIsNotLoadedLeavesEveryRequestOnTheDefault() {
        versions();
        String yaml = """
                classifiers:
                  fixture:
                    canary: {version: 3.0.0, weight: 50}
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            for (int i = 0; i < 20; i++) {
                assertThat(gateway.post("/fixture/predict", X).headers().firstValue("X-Model-Version")).contains("1.1.0");
            }
        }
    }
}
