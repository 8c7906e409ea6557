package dev.mlserver.gateway.versions;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several versions of one classifier loaded at once, each reachable by its pinned routes. */
class VersionsSideBySideTest {
    static final String X = "{\"payload\": {\"x\": 2}}";

    @TempDir
    Path plugins;

    private void fixture(String file, String version) {
        PluginJars.plugin("fixture").version(version).classifier(FixtureClassifier.class).writeTo(plugins, file);
    }

    @Test
    void twoVersionsServeTogetherAndThePinnedRoutesReachEach() {
        fixture("fixture-1.0.0.jar", "1.0.0");
        fixture("fixture-1.1.0.jar", "1.1.0");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            for (String version : new String[] {"1.0.0", "1.1.0"}) {
                String base = "/fixture/versions/" + version;
                HttpResponse<String> predict = gateway.post(base + "/predict", X);
                assertThat(predict.statusCode()).isEqualTo(200);
                assertThat(TestGateway.json(predict).at("/metadata/version").asText()).isEqualTo(version);
                assertThat(predict.headers().firstValue("X-Model-Version")).contains(version);
                HttpResponse<String> proba = gateway.post(base + "/predict_proba", X);
                assertThat(TestGateway.json(proba).at("/metadata/version").asText()).isEqualTo(version);
                assertThat(TestGateway.json(gateway.get(base)).get("version").asText()).isEqualTo(version);
                HttpResponse<String> ready = gateway.get(base + "/ready");
                assertThat(ready.statusCode()).isEqualTo(200);
                assertThat(TestGateway.json(ready).get("version").asText()).isEqualTo(version);
            }
        }
    }

    @Test
    void theDefaultIsTheHighestVersionWhateverTheFileNames() {
        fixture("a-fixture-0.2.0.jar", "0.2.0");
        fixture("b-fixture-0.10.0.jar", "0.10.0");
        fixture("c-fixture-0.9.1.jar", "0.9.1");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            HttpResponse<String> answer = gateway.post("/fixture/predict", X);
            assertThat(TestGateway.json(answer).at("/metadata/version").asText()).isEqualTo("0.10.0");
            assertThat(answer.headers().firstValue("X-Model-Version")).contains("0.10.0");
            assertThat(TestGateway.json(gateway.get("/fixture")).get("role").asText()).isEqualTo("default");
        }
    }

    @Test
    void theConfigNamesTheDefaultVersion() {
        fixture("fixture-1.0.0.jar", "1.0.0");
        fixture("fixture-2.0.0.jar", "2.0.0");
        String yaml = """
                classifiers:
                  fixture:
                    default_version: 1.0.0
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            assertThat(TestGateway.json(gateway.post("/fixture/predict", X)).at("/metadata/version").asText())
                    .isEqualTo("1.0.0");
            assertThat(TestGateway.json(gateway.post("/fixture/versions/2.0.0/predict", X)).at("/metadata/version").asText())
                    .isEqualTo("2.0.0");
        }
    }

    @Test
    void aVersionThatIsNotLoadedIsA404NamingTheLoadedOnes() {
        fixture("fixture-1.0.0.jar", "1.0.0");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            HttpResponse<String> missing = gateway.post("/fixture/versions/9.9.9/predict", X);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(TestGateway.json(missing).at("/error/message").asText())
                    .contains("no version '9.9.9' of fixture").contains("[1.0.0]");
            assertThat(gateway.get("/nothing/versions/1.0.0").statusCode()).isEqualTo(404);
            assertThat(gateway.post("/fixture/versions/1.0.0/predict", "{\"payload\": {\"x\": \"no\"}}").statusCode())
                    .isEqualTo(400);
        }
    }

    @Test
    void classifiersAndStatusListEveryVersionWithItsRole() {
        fixture("fixture-1.0.0.jar", "1.0.0");
        fixture("fixture-1.1.0.jar", "1.1.0");
        fixture("fixture-1.2.0.jar", "1.2.0");
        fixture("fixture-2.0.0.jar", "2.0.0");
        String yaml = """
                classifiers:
                  fixture:
                    default_version: 1.1.0
                    canary: {version: 1.2.0, weight: 10}
                    shadow: {version: 2.0.0, sample: 50}
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            Map<String, String> expected = Map.of("1.0.0", "pinned", "1.1.0", "default", "1.2.0", "canary", "2.0.0", "shadow");
            assertThat(roles(TestGateway.json(gateway.get("/classifiers")).get("classifiers"))).isEqualTo(expected);
            JsonNode status = TestGateway.json(gateway.get("/status")).get("classifiers");
            assertThat(roles(status)).isEqualTo(expected);
            for (JsonNode c : status) {
                String version = c.get("version").asText();
                assertThat(c.at("/routes/predict").asText()).isEqualTo(version.equals("1.1.0")
                        ? "/fixture/predict" : "/fixture/versions/" + version + "/predict");
            }
        }
    }

    private static Map<String, String> roles(JsonNode classifiers) {
        Map<String, String> roles = new HashMap<>();
        classifiers.forEach(c -> roles.put(c.get("version").asText(), c.get("role").asText()));
        return roles;
    }
}
