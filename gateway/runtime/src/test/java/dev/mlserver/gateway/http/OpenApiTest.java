package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /openapi.json against the OpenAPI 3.1 schema (as bundled by vertx-openapi, which validates a
 * contract before it accepts it), and every example in it against its own JSON Schema.
 */
class OpenApiTest {
    @TempDir
    static Path plugins;

    static TestGateway gateway;
    static Vertx vertx;

    @BeforeAll
    static void start() throws IOException {
        copyExamples(plugins);
        PluginJars.renamed(plugins.resolve("iris.jar"), plugins, "iris-b", "2.0.0");
        gateway = TestGateway.start(plugins);
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        vertx.close().await();
    }

    /** The example iris jar: these tests are about what the gateway shows, not about the family. */
    static void copyExamples(Path dir) throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), dir.resolve("iris.jar"));
    }

    private static JsonNode document() {
        var response = gateway.get("/openapi.json");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        return TestGateway.json(response);
    }

    private static List<String> served() {
        List<String> names = new ArrayList<>();
        TestGateway.json(gateway.get("/classifiers")).get("classifiers").forEach(c -> names.add(c.get("name").asText()));
        return names;
    }

    @Test
    void theDocumentIsAValidOpenApi31Contract() {
        JsonObject doc = new JsonObject(document().toString());
        OpenAPIContract contract = OpenAPIContract.from(vertx, doc).await();
        assertThat(contract.getVersion().toString()).contains("3_1");
        assertThat(contract.operation("iris_predict")).isNotNull();
    }

    @Test
    void theValidatorRejectsAResponseWithoutItsRequiredDescription() {
        JsonObject doc = new JsonObject(document().toString());
        doc.getJsonObject("paths").getJsonObject("/iris/predict").getJsonObject("post").getJsonObject("responses")
                .getJsonObject("200").remove("description");
        assertThatThrownBy(() -> OpenAPIContract.from(vertx, doc).await())
                .hasMessageContaining("contract is invalid");
    }

    @Test
    void everyServedClassifierHasItsFourRoutes() {
        JsonNode paths = document().get("paths");
        assertThat(served()).containsExactlyInAnyOrder("iris", "iris-b");
        for (String name : served()) {
            assertThat(paths.has("/" + name + "/predict")).as(name).isTrue();
            assertThat(paths.has("/" + name + "/predict_proba")).as(name).isTrue();
            assertThat(paths.has("/" + name)).as(name).isTrue();
            assertThat(paths.has("/" + name + "/ready")).as(name).isTrue();
        }
        assertThat(paths.get("/iris-b/predict").get("post").get("description").asText()).contains("Version 2.0.0");
    }

    @Test
    void everyRequestExampleFitsItsSchema() {
        JsonNode paths = document().get("paths");
        int checked = 0;
        for (var path : paths.properties()) {
            JsonNode post = path.getValue().get("post");
            if (post == null) {
                continue;
            }
            JsonNode media = post.get("requestBody").get("content").get("application/json");
            if (!media.has("examples")) {
                continue; // the Open Inference Protocol's infer: its tensors are in GET /v2/models/<name>
            }
            for (JsonNode example : media.get("examples")) {
                OutputUnit result = validator(media.get("schema")).validate(toVertx(example.get("value")));
                assertThat(result.getValid()).as(path.getKey() + ": " + result.getErrors()).isTrue();
                checked++;
            }
        }
        assertThat(checked).isEqualTo(4);
    }

    @Test
    void everyMetadataExampleFitsItsSchemaAndIsTheRealBlock() {
        JsonNode paths = document().get("paths");
        for (String name : served()) {
            JsonNode metadata = paths.get("/" + name + "/predict").get("post").get("responses").get("200")
                    .get("content").get("application/json").get("schema").get("properties").get("metadata");
            JsonNode example = metadata.get("examples").get(0);
            assertThat(validator(metadata).validate(toVertx(example)).getValid()).as(name).isTrue();
            JsonNode real = TestGateway.json(gateway.get("/" + name)).get("metadata");
            assertThat(example).isEqualTo(real);
        }
    }

    @Test
    void aRealAnswerFitsTheResponseSchemaOfBothRoutes() {
        JsonNode paths = document().get("paths");
        for (String route : List.of("predict", "predict_proba")) {
            JsonNode op = paths.get("/iris/" + route).get("post");
            JsonNode example = op.get("requestBody").get("content").get("application/json").get("examples").get("example").get("value");
            var answer = gateway.post("/iris/" + route, example.toString());
            assertThat(answer.statusCode()).isEqualTo(200);
            JsonNode schema = op.get("responses").get("200").get("content").get("application/json").get("schema");
            OutputUnit result = validator(schema).validate(toVertx(TestGateway.json(answer)));
            assertThat(result.getValid()).as(route + ": " + result.getErrors()).isTrue();
        }
    }

    @Test
    void anAnswerOfAnotherClassifierDoesNotFitTheSchema() {
        JsonNode schema = document().get("paths").get("/iris-b/predict").get("post").get("responses").get("200")
                .get("content").get("application/json").get("schema");
        var answer = gateway.post("/iris/predict", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}");
        assertThat(validator(schema).validate(toVertx(TestGateway.json(answer))).getValid()).isFalse();
    }

    @Test
    void everyErrorStatusIsDocumented() {
        JsonNode doc = document();
        JsonNode responses = doc.get("paths").get("/iris/predict").get("post").get("responses");
        assertThat(responses.fieldNames()).toIterable()
                .contains("200", "400", "401", "403", "404", "405", "413", "415", "429", "500", "503", "504");
        JsonNode unavailable = doc.get("components").get("responses").get("Error503");
        assertThat(unavailable.get("headers").has("Retry-After")).isTrue();
        assertThat(unavailable.get("description").asText()).contains("classifier_saturated", "draining");
    }

    @Test
    void theDocumentFollowsPluginsAddedAndReplaced(@TempDir Path dir) throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), dir.resolve("iris.jar"));
        try (TestGateway own = TestGateway.start(dir)) {
            assertThat(TestGateway.json(own.get("/openapi.json")).get("paths").has("/iris-c/predict")).isFalse();

            // dropped into the watched plugins directory, as a user would
            PluginJars.renamed(dir.resolve("iris.jar"), dir, "iris-c", "1.0.0");
            await().atMost(Duration.ofSeconds(20)).until(() -> "1.0.0".equals(documentedVersion(own, "/iris-c")));
            assertThat(TestGateway.json(own.get("/openapi.json")).get("paths").has("/iris-c/predict")).isTrue();

            PluginJars.renamed(dir.resolve("iris.jar"), dir, "iris-c", "1.1.0");
            await().atMost(Duration.ofSeconds(20)).until(() -> "1.1.0".equals(documentedVersion(own, "/iris-c")));

            Files.delete(dir.resolve("iris-c.jar"));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> !TestGateway.json(own.get("/openapi.json")).get("paths").has("/iris-c/predict"));
        }
    }

    private static String documentedVersion(TestGateway gateway, String path) {
        JsonNode route = TestGateway.json(gateway.get("/openapi.json")).get("paths").get(path);
        return route == null ? null : route.get("get").get("responses").get("200").get("content").get("application/json")
                .get("schema").get("properties").get("version").get("const").asText();
    }

    @Test
    void versionedUrlsAreDocumentedUnderTheApiVersion() throws IOException {
        try (TestGateway own = TestGateway.start(plugins, "api:\n  include_version_in_url: true\n")) {
            JsonNode paths = TestGateway.json(own.get("/openapi.json")).get("paths");
            assertThat(paths.has("/v1/iris/predict")).isTrue();
            assertThat(paths.has("/iris/predict")).isFalse();
            assertThat(own.post("/v1/iris/predict", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}").statusCode()).isEqualTo(200);
        }
    }

    private static Validator validator(JsonNode schema) {
        return Validator.create(JsonSchema.of(new JsonObject(schema.toString())),
                new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri("https://mlserver.test/"));
    }

    private static Object toVertx(JsonNode node) {
        return io.vertx.core.json.Json.decodeValue(node.toString());
    }
}
