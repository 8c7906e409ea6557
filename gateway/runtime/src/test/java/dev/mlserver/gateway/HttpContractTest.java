package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP contract of DESIGN.md over a real socket, against the reactor-built iris plugin. */
class HttpContractTest {
    static TestGateway gateway;

    static final String IRIS = "{\"sepal_length\": 5.1, \"sepal_width\": 3.5, \"petal_length\": 1.4, \"petal_width\": 0.2}";

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(TestGateway.examplePlugins());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void predictAnswersWithLabelsAndEveryMetadataField() {
        HttpResponse<String> response = gateway.post("/iris/predict", "{\"payload\": " + IRIS + "}");
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = TestGateway.json(response);
        assertThat(body.get("predictions")).hasSize(1);
        assertThat(body.get("predictions").get(0).asText()).isEqualTo("setosa");
        JsonNode metadata = body.get("metadata");
        for (String field : new String[] {"repository", "classifier", "version", "git_tag", "git_commit", "trained_at",
                "api_version", "model_metrics"}) {
            assertThat(metadata.has(field)).as(field).isTrue();
        }
        assertThat(metadata.get("classifier").asText()).isEqualTo("iris");
        assertThat(metadata.get("api_version").asText()).isEqualTo("v1");
        assertThat(metadata.get("model_metrics").get("accuracy").asDouble()).isGreaterThan(0.8);
        assertThat(body.get("time_ms").asDouble()).isPositive();
        assertThat(response.headers().firstValue("X-Request-Id")).isPresent();
    }

    @Test
    void payloadListGivesOnePredictionPerInstance() {
        JsonNode body = TestGateway.json(gateway.post("/iris/predict",
                "{\"payload\": [" + IRIS + ", [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]}"));
        assertThat(body.get("predictions")).extracting(JsonNode::asText).containsExactly("setosa", "virginica", "versicolor");
    }

    @Test
    void instancesFormatIsAccepted() {
        JsonNode body = TestGateway.json(gateway.post("/iris/predict", "{\"instances\": [[6.7, 3.0, 5.2, 2.3]]}"));
        assertThat(body.get("predictions").get(0).asText()).isEqualTo("virginica");
    }

    @Test
    void aFlatNumberArrayIsOneTabularInstance() {
        JsonNode body = TestGateway.json(gateway.post("/iris/predict", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}"));
        assertThat(body.get("predictions")).hasSize(1);
        assertThat(body.get("predictions").get(0).asText()).isEqualTo("virginica");
    }

    @Test
    void predictProbaGivesProbabilitiesKeyedByLabel() {
        JsonNode body = TestGateway.json(gateway.post("/iris/predict_proba", "{\"payload\": " + IRIS + "}"));
        JsonNode p = body.get("predictions").get(0);
        assertThat(p.fieldNames()).toIterable().containsExactly("setosa", "versicolor", "virginica");
        double sum = p.get("setosa").asDouble() + p.get("versicolor").asDouble() + p.get("virginica").asDouble();
        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(p.get("setosa").asDouble()).isGreaterThan(0.5);
    }

    @Test
    void describeAdvertisesAnExampleThePredictRouteAccepts() throws Exception {
        JsonNode info = TestGateway.json(gateway.get("/iris"));
        assertThat(info.get("labels")).hasSize(3);
        assertThat(info.get("input_schema").isObject()).isTrue();
        String example = TestGateway.JSON.writeValueAsString(info.get("example"));
        HttpResponse<String> response = gateway.post("/iris/predict", example);
        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void classifiersListsLoadedClassifiersAndPluginStates() {
        JsonNode body = TestGateway.json(gateway.get("/classifiers"));
        assertThat(body.get("classifiers")).extracting(c -> c.get("name").asText()).contains("iris");
        assertThat(body.get("plugins")).extracting(p -> p.get("state").asText()).contains("ready");
    }

    @Test
    void healthRoutes() {
        assertThat(gateway.get("/health/live").statusCode()).isEqualTo(200);
        assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
        assertThat(gateway.get("/iris/ready").statusCode()).isEqualTo(200);
        assertThat(gateway.get("/nope/ready").statusCode()).isEqualTo(404);
    }

    @Test
    void metricsAreInPrometheusTextFormat() {
        HttpResponse<String> response = gateway.get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(response.body()).contains("mlserver_in_flight{classifier=\"iris\"");
    }

    @Test
    void malformedJsonIs400() {
        assertError(gateway.post("/iris/predict", "{bad json"), 400, "invalid_json");
    }

    @Test
    void trailingGarbageAfterJsonIs400() {
        assertError(gateway.post("/iris/predict", "{\"payload\": [1,2,3,4]} extra"), 400, "invalid_json");
    }

    @Test
    void aDuplicateKeyInTheBodyIs400() {
        assertError(gateway.post("/iris/predict", "{\"payload\": [1,2,3,4], \"payload\": [5,6,7,8]}"), 400, "invalid_json");
    }

    @Test
    void wrongShapesAre400WithAMessage() {
        assertError(gateway.post("/iris/predict", "[]"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": 1, \"instances\": []}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"instances\": []}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": null}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": {\"sepal_length\": 1}}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": [1, 2, 3]}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": [\"a\", \"b\", \"c\", \"d\"]}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": {\"sepal_length\": \"5\", \"sepal_width\": 3.5,"
                + " \"petal_length\": 1.4, \"petal_width\": 0.2}}"), 400, "invalid_input");
        assertError(gateway.post("/iris/predict", "{\"payload\": [1e999, 1, 1, 1]}"), 400, "invalid_input");
    }

    @Test
    void theErrorOfAKnownClassifierCarriesItsMetadata() {
        JsonNode body = TestGateway.json(gateway.post("/iris/predict", "{\"payload\": [1, 2]}"));
        assertThat(body.get("metadata").get("classifier").asText()).isEqualTo("iris");
        assertThat(body.get("error").get("message").asText()).contains("4 feature values");
    }

    @Test
    void unknownClassifierIs404() {
        assertError(gateway.post("/no-such/predict", "{\"payload\": {}}"), 404, "unknown_classifier");
        assertError(gateway.get("/no-such"), 404, "unknown_classifier");
    }

    @Test
    void unknownRouteIs404() {
        assertError(gateway.get("/iris/predict/more"), 404, "not_found");
        assertError(gateway.get("/health/nothing"), 404, "not_found");
    }

    @Test
    void wrongMethodIs405() {
        assertError(gateway.get("/iris/predict"), 405, "method_not_allowed");
        assertError(gateway.send(HttpRequest.newBuilder(gateway.uri("/iris/predict"))
                .PUT(HttpRequest.BodyPublishers.ofString("{}")).build()), 405, "method_not_allowed");
    }

    @Test
    void bodyOverTheLimitIs413() {
        byte[] big = new byte[2 * 1024 * 1024];
        java.util.Arrays.fill(big, (byte) ' ');
        assertError(gateway.post("/iris/predict", big, "application/json"), 413, "payload_too_large");
    }

    @Test
    void nonJsonContentTypeIs415() {
        assertError(gateway.post("/iris/predict", "payload=1".getBytes(StandardCharsets.UTF_8),
                "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
        assertError(gateway.post("/iris/predict", "hello".getBytes(StandardCharsets.UTF_8), "text/plain"), 415,
                "unsupported_media_type");
    }

    @Test
    void aBodyWithoutContentTypeIsReadAsJson() {
        HttpResponse<String> response = gateway.post("/iris/predict",
                ("{\"payload\": " + IRIS + "}").getBytes(StandardCharsets.UTF_8), null);
        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void requestIdsAreRandomAndShowNoCounter() {
        java.util.List<java.util.UUID> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ids.add(java.util.UUID.fromString(gateway.get("/health/live").headers().firstValue("X-Request-Id").orElseThrow()));
        }
        assertThat(ids).doesNotHaveDuplicates().allSatisfy(id -> {
            assertThat(id.version()).isEqualTo(4);
            assertThat(id.variant()).isEqualTo(2);
        });
        // no half is shared or steps by a small amount from one request to the next: 50 ids in a
        // row tell nothing of how many requests the gateway served
        assertThat(ids.stream().map(java.util.UUID::getMostSignificantBits).distinct()).hasSize(50);
        for (int i = 1; i < ids.size(); i++) {
            long step = ids.get(i).getLeastSignificantBits() - ids.get(i - 1).getLeastSignificantBits();
            assertThat(Math.abs(step)).as("id %d follows id %d", i, i - 1).isGreaterThan(1_000_000L);
        }
    }

    @Test
    void aClientRequestIdIsEchoed() {
        HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(gateway.uri("/health/live"))
                .header("X-Request-Id", "trace-42").GET().build());
        assertThat(response.headers().firstValue("X-Request-Id")).contains("trace-42");
    }

    @Test
    void tooManyInstancesIs400() {
        StringBuilder body = new StringBuilder("{\"instances\": [");
        for (int i = 0; i < 65; i++) {
            body.append(i == 0 ? "" : ",").append("[1,2,3,4]");
        }
        assertError(gateway.post("/iris/predict", body.append("]}").toString()), 400, "invalid_input");
    }

    static void assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode body = TestGateway.json(response);
        assertThat(body.path("error").path("code").asText()).isEqualTo(code);
        assertThat(body.path("error").path("message").asText()).isNotBlank();
    }
}
