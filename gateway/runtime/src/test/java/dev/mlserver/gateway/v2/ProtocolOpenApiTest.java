package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.testing.TestGateway;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Open Inference Protocol's REST routes in {@code /openapi.json}: each with its method, and real answers fit. */
class ProtocolOpenApiTest {
    static final String IRIS_BODY = "{\"id\": \"r1\", \"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", "
            + "\"shape\": [2, 4], \"data\": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}";

    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        TestGateway.copyExamples(plugins, "iris", "sentiment");
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static JsonNode document() {
        var response = gateway.get("/openapi.json");
        assertThat(response.statusCode()).isEqualTo(200);
        return TestGateway.json(response);
    }

    @Test
    void everyRestRouteIsListedWithItsMethodAndNoOther() {
        Map<String, String> expected = new TreeMap<>(Map.of("/v2", "get", "/v2/health/live", "get", "/v2/health/ready", "get"));
        for (String model : List.of("iris", "sentiment")) {
            String base = "/v2/models/" + model;
            for (String at : List.of(base, base + "/versions/{version}")) {
                expected.put(at, "get");
                expected.put(at + "/ready", "get");
                expected.put(at + "/infer", "post");
            }
        }
        Map<String, String> listed = new TreeMap<>();
        document().get("paths").properties().forEach(path -> {
            if (path.getKey().equals("/v2") || path.getKey().startsWith("/v2/")) {
                List<String> methods = new java.util.ArrayList<>();
                path.getValue().fieldNames().forEachRemaining(methods::add);
                methods.remove("parameters");
                listed.put(path.getKey(), String.join(",", methods));
            }
        });
        assertThat(listed).isEqualTo(expected);
    }

    @Test
    void aPinnedRouteDeclaresItsVersionParameter() {
        JsonNode op = document().get("paths").get("/v2/models/iris/versions/{version}/infer").get("post");
        JsonNode parameter = op.get("parameters").get(0);
        assertThat(parameter.get("name").asText()).isEqualTo("version");
        assertThat(parameter.get("in").asText()).isEqualTo("path");
        assertThat(parameter.get("schema").get("example").asText())
                .isEqualTo(gateway.gateway().registry().find("iris").orElseThrow().info().version());
    }

    @Test
    void theDatatypesAreTheOnesTheRoutesRead() {
        JsonNode datatypes = document().at("/components/schemas/V2RequestInput/properties/datatype/enum");
        List<String> listed = new java.util.ArrayList<>();
        datatypes.forEach(d -> listed.add(d.asText()));
        assertThat(listed).isEqualTo(Arrays.stream(Datatype.values()).map(Enum::name).collect(Collectors.toList()));
    }

    @Test
    void aRealRequestAndItsAnswerFitTheirSchemas() {
        JsonNode doc = document();
        JsonNode op = doc.get("paths").get("/v2/models/iris/infer").get("post");
        JsonNode requestSchema = op.at("/requestBody/content/application~1json/schema");
        OutputUnit request = validate(doc, requestSchema, parse(IRIS_BODY));
        assertThat(request.getValid()).as(String.valueOf(request.getErrors())).isTrue();
        var answer = gateway.post("/v2/models/iris/infer", IRIS_BODY);
        assertThat(answer.statusCode()).isEqualTo(200);
        OutputUnit ok = validate(doc, op.at("/responses/200/content/application~1json/schema"), TestGateway.json(answer));
        assertThat(ok.getValid()).as(String.valueOf(ok.getErrors())).isTrue();
        var refused = gateway.post("/v2/models/iris/infer", IRIS_BODY.replace("[2, 4]", "[3, 4]"));
        assertThat(refused.statusCode()).isEqualTo(400);
        OutputUnit error = validate(doc, op.at("/responses/400/content/application~1json/schema"), TestGateway.json(refused));
        assertThat(error.getValid()).as(String.valueOf(error.getErrors())).isTrue();
    }

    @Test
    void anAnswerWithoutOutputsDoesNotFitTheResponseSchema() {
        JsonNode doc = document();
        JsonNode schema = doc.at("/paths/~1v2~1models~1iris~1infer/post/responses/200/content/application~1json/schema");
        ObjectNode answer = (ObjectNode) TestGateway.json(gateway.post("/v2/models/iris/infer", IRIS_BODY));
        answer.remove("outputs");
        assertThat(validate(doc, schema, answer).getValid()).isFalse();
    }

    private static JsonNode parse(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new AssertionError(json, e);
        }
    }

    /** Validates {@code value} against {@code schema}, its references resolved in the document's components. */
    private static OutputUnit validate(JsonNode doc, JsonNode schema, JsonNode value) {
        ObjectNode wrapped = ((ObjectNode) schema).deepCopy();
        wrapped.set("$defs", doc.at("/components/schemas"));
        String text = wrapped.toString().replace("#/components/schemas/", "#/$defs/");
        Validator validator = Validator.create(JsonSchema.of(new JsonObject(text)),
                new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setBaseUri("https://mlserver.test/"));
        return validator.validate(io.vertx.core.json.Json.decodeValue(value.toString()));
    }
}
