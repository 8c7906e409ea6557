package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.RawHttp;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol's REST routes, per endpoint, for a tabular (iris) and a text
 * (sentiment) classifier, with a real HTTP client and raw sockets against a real gateway.
 */
class RestProtocolTest {
    static final String IRIS_BATCH = """
            {"id": "batch-1", "inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32",
              "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}""";

    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        TestGateway.copyExamples(plugins, "iris", "sentiment");
        PluginJars.plugin("slow").classifier(FixtureClassifier.class)
                .yaml("sleep_ms: 1500\nlimits:\n  max_concurrent_predictions: 1\n  max_queue: 0\n  timeout_ms: 300\n")
                .writeTo(plugins, "slow.jar");
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static HttpResponse<String> infer(String model, String body) {
        return gateway.post("/v2/models/" + model + "/infer", body);
    }

    static JsonNode ok(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
        return TestGateway.json(response);
    }

    /** The contract of every error: the status, and {"error": "<message>"} with nothing else. */
    static String error(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = TestGateway.json(response);
        assertThat(body.size()).as(response.body()).isEqualTo(1);
        assertThat(body.path("error").isTextual()).as(response.body()).isTrue();
        return body.path("error").textValue();
    }

    static JsonNode output(JsonNode response, String name) {
        for (JsonNode o : response.path("outputs")) {
            if (o.path("name").asText().equals(name)) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + response);
    }

    static List<String> labels(JsonNode response) {
        List<String> out = new ArrayList<>();
        output(response, "label").path("data").forEach(n -> out.add(n.textValue()));
        return out;
    }

    @Test
    void serverMetadataNamesTheServerAndItsVersion() {
        JsonNode body = ok(gateway.get("/v2"));
        assertThat(body.path("name").asText()).isEqualTo("mlserver");
        assertThat(body.path("version").asText()).isNotBlank();
        assertThat(body.path("extensions").isArray()).isTrue();
    }

    @Test
    void serverIsLiveAndReady() {
        assertThat(ok(gateway.get("/v2/health/live")).path("live").asBoolean()).isTrue();
        assertThat(ok(gateway.get("/v2/health/ready")).path("ready").asBoolean()).isTrue();
    }

    @Test
    void tabularModelMetadataIsDerivedFromTheClassifier() {
        JsonNode body = ok(gateway.get("/v2/models/iris"));
        String version = gateway.gateway().registry().find("iris").orElseThrow().info().version();
        assertThat(body.path("name").asText()).isEqualTo("iris");
        assertThat(body.path("versions").toString()).isEqualTo("[\"" + version + "\"]");
        assertThat(body.path("platform").asText()).isEqualTo("mlserver_tabular");
        assertThat(body.path("inputs").toString())
                .isEqualTo("[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
        assertThat(body.path("outputs").toString()).isEqualTo("[{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[-1]},"
                + "{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,3]}]");
        assertThat(ok(gateway.get("/v2/models/iris/versions/" + version))).isEqualTo(body);
    }

    @Test
    void textModelMetadataTakesOneBytesTensor() {
        JsonNode body = ok(gateway.get("/v2/models/sentiment"));
        assertThat(body.path("platform").asText()).isEqualTo("mlserver_text");
        assertThat(body.path("inputs").toString()).isEqualTo("[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[-1]}]");
        assertThat(output(body, "probabilities").path("shape").get(0).asInt()).isEqualTo(-1);
    }

    @Test
    void modelReadyIsTrueForALoadedModelAndVersion() {
        String version = gateway.gateway().registry().find("sentiment").orElseThrow().info().version();
        assertThat(ok(gateway.get("/v2/models/sentiment/ready")).path("ready").asBoolean()).isTrue();
        assertThat(ok(gateway.get("/v2/models/sentiment/versions/" + version + "/ready")).path("ready").asBoolean()).isTrue();
    }

    @Test
    void irisBatchAnswersALabelAndAProbabilityRowPerInstance() {
        JsonNode body = ok(infer("iris", IRIS_BATCH));
        assertThat(body.path("model_name").asText()).isEqualTo("iris");
        assertThat(body.path("model_version").asText())
                .isEqualTo(gateway.gateway().registry().find("iris").orElseThrow().info().version());
        assertThat(body.path("id").asText()).isEqualTo("batch-1");
        assertThat(labels(body)).containsExactly("setosa", "virginica");
        JsonNode probabilities = output(body, "probabilities");
        assertThat(probabilities.path("datatype").asText()).isEqualTo("FP32");
        assertThat(probabilities.path("shape").toString()).isEqualTo("[2,3]");
        assertThat(probabilities.path("data").size()).isEqualTo(6);
        double sum = 0;
        for (int i = 0; i < 3; i++) {
            sum += probabilities.path("data").get(i).asDouble();
        }
        assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
        assertThat(output(body, "label").path("shape").toString()).isEqualTo("[2]");
    }

    @Test
    void theSameAnswerAsTheNativeRoute() {
        JsonNode v2 = ok(infer("iris", IRIS_BATCH));
        JsonNode nativeAnswer = ok(gateway.post("/iris/predict_proba", "{\"payload\": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}"));
        JsonNode data = output(v2, "probabilities").path("data");
        assertThat(data.get(0).asDouble()).isEqualTo(nativeAnswer.path("predictions").get(0).path("setosa").asDouble());
        assertThat(data.get(5).asDouble()).isEqualTo(nativeAnswer.path("predictions").get(1).path("virginica").asDouble());
    }

    @Test
    void responseParametersCarryTheEightMetadataFields() throws IOException {
        JsonNode parameters = ok(infer("iris", IRIS_BATCH)).path("parameters");
        JsonNode metadata = ok(gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}")).path("metadata");
        for (String field : List.of("repository", "classifier", "version", "git_tag", "git_commit", "trained_at",
                "api_version")) {
            // a field the native API sends as null (no git tag on an untagged build) is an empty string
            String expected = metadata.path(field).isNull() ? "" : metadata.path(field).asText();
            assertThat(parameters.path(field).asText()).as(field).isEqualTo(expected);
        }
        assertThat(parameters.path("model_metrics").isTextual()).isTrue();
        assertThat(TestGateway.JSON.readTree(parameters.path("model_metrics").textValue()))
                .isEqualTo(metadata.path("model_metrics"));
    }

    @Test
    void nestedDataIsTheSameTensorAsFlattenedData() {
        String nested = IRIS_BATCH.replace("[5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]", "[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]");
        assertThat(ok(infer("iris", nested)).path("outputs")).isEqualTo(ok(infer("iris", IRIS_BATCH)).path("outputs"));
    }

    @Test
    void nestedDataWhoseListsAreNotTheShapesIsRefused() {
        String ragged = IRIS_BATCH.replace("[5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]", "[[5.1, 3.5], [1.4, 0.2, 6.7, 3.0, 5.2, 2.3]]");
        assertThat(error(infer("iris", ragged), 400)).contains("2 items at dimension 1 where the shape has 4");
        String mixed = IRIS_BATCH.replace("[5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]", "[5.1, 3.5, 1.4, 0.2, [6.7, 3.0, 5.2, 2.3]]");
        assertThat(error(infer("iris", mixed), 400)).contains("either flat or nested as the shape");
    }

    @Test
    void anOverlongUtf8FormIsNotText() {
        // C0 AF is an overlong '/': the JSON parser would read it as text
        byte[] head = "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"a "
                .getBytes(StandardCharsets.UTF_8);
        byte[] tail = " b\"]}]}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + 2 + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        body[head.length] = (byte) 0xc0;
        body[head.length + 1] = (byte) 0xaf;
        System.arraycopy(tail, 0, body, head.length + 2, tail.length);
        HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.port() + "/v2/models/sentiment/infer"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertThat(error(response, 400)).contains("not valid UTF-8");
    }

    @Test
    void fp64AndIntegerTensorsAreAcceptedForTabularInput() {
        assertThat(labels(ok(infer("iris", IRIS_BATCH.replace("FP32", "FP64"))))).containsExactly("setosa", "virginica");
        String ints = """
                {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "INT64", "data": [7, 3, 5, 2]}]}""";
        assertThat(labels(ok(infer("iris", ints)))).hasSize(1);
        assertThat(labels(ok(infer("iris", ints.replace("INT64", "INT32"))))).hasSize(1);
    }

    @Test
    void namedPerFeatureTensorsAreTheSameAsTheMatrix() {
        String perFeature = """
                {"inputs": [
                  {"name": "sepal_length", "shape": [2], "datatype": "FP32", "data": [5.1, 6.7]},
                  {"name": "sepal_width", "shape": [2], "datatype": "FP32", "data": [3.5, 3.0]},
                  {"name": "petal_length", "shape": [2], "datatype": "FP32", "data": [1.4, 5.2]},
                  {"name": "petal_width", "shape": [2, 1], "datatype": "FP32", "data": [0.2, 2.3]}]}""";
        assertThat(ok(infer("iris", perFeature)).path("outputs")).isEqualTo(ok(infer("iris", IRIS_BATCH)).path("outputs"));
    }

    @Test
    void requestedOutputsAreTheOnlyOnesSent() {
        String onlyLabel = IRIS_BATCH.replace("]}]}", "]}], \"outputs\": [{\"name\": \"label\"}]}");
        JsonNode body = ok(infer("iris", onlyLabel));
        assertThat(body.path("outputs").size()).isEqualTo(1);
        assertThat(labels(body)).containsExactly("setosa", "virginica");
        String onlyProbabilities = IRIS_BATCH.replace("]}]}", "]}], \"outputs\": [{\"name\": \"probabilities\"}]}");
        assertThat(ok(infer("iris", onlyProbabilities)).path("outputs").get(0).path("name").asText()).isEqualTo("probabilities");
    }

    @Test
    void sentimentBatchOfBytesTextsAnswersOneLabelEach() {
        String body = """
                {"id": "t", "inputs": [{"name": "text", "shape": [3], "datatype": "BYTES",
                  "data": ["I loved this film, wonderful acting", "terrible, boring and far too long", "Ünïcödé ✓ fine"]}]}""";
        JsonNode answer = ok(infer("sentiment", body));
        assertThat(labels(answer)).hasSize(3);
        assertThat(labels(answer).get(0)).isEqualTo("positive");
        assertThat(labels(answer).get(1)).isEqualTo("negative");
        assertThat(output(answer, "probabilities").path("shape").toString()).isEqualTo("[3,2]");
    }

    @Test
    void aModelWithAnotherSchemaTakesEachInstanceAsJsonText() {
        // the fixture's schema is neither tabular nor text: one BYTES tensor of JSON instances
        JsonNode metadata = ok(gateway.get("/v2/models/slow"));
        assertThat(metadata.path("inputs").get(0).path("name").asText()).isEqualTo("instances");
    }

    // ---- error paths ----

    @Test
    void unknownModelIs404() {
        assertThat(error(gateway.get("/v2/models/nope"), 404)).contains("nope");
        assertThat(error(gateway.get("/v2/models/nope/ready"), 404)).contains("nope");
        assertThat(error(infer("nope", IRIS_BATCH), 404)).contains("nope");
    }

    @Test
    void unknownVersionIs404() {
        assertThat(error(gateway.get("/v2/models/iris/versions/9.9.9"), 404)).contains("9.9.9");
        assertThat(error(gateway.get("/v2/models/iris/versions/9.9.9/ready"), 404)).contains("9.9.9");
        assertThat(error(gateway.post("/v2/models/iris/versions/9.9.9/infer", IRIS_BATCH), 404)).contains("9.9.9");
    }

    @Test
    void unknownV2PathIs404AndWrongMethodIs405() {
        error(gateway.get("/v2/models"), 404);
        error(gateway.get("/v2/nothing/here"), 404);
        HttpResponse<String> live = gateway.post("/v2/health/live", "{}");
        error(live, 405);
        assertThat(live.headers().firstValue("Allow")).hasValue("GET");
        HttpResponse<String> infer = gateway.get("/v2/models/iris/infer");
        assertThat(error(infer, 405)).contains("it answers POST");
        assertThat(infer.headers().firstValue("Allow")).hasValue("POST");
        HttpResponse<String> model = gateway.post("/v2/models/iris", "{}");
        error(model, 405);
        assertThat(model.headers().firstValue("Allow")).hasValue("GET");
    }

    @Test
    void malformedJsonIs400() {
        assertThat(error(infer("iris", "{\"inputs\": [}"), 400)).contains("JSON");
        error(infer("iris", ""), 400);
        error(infer("iris", "[1, 2]"), 400);
        error(infer("iris", "{\"inputs\": []}"), 400);
        error(infer("iris", "{\"inputs\": [{\"name\": \"input\"}]}"), 400);
    }

    @Test
    void aBodyThatIsNotJsonIs415() {
        assertThat(gateway.post("/v2/models/iris/infer", IRIS_BATCH.getBytes(StandardCharsets.UTF_8), "text/plain")
                .statusCode()).isEqualTo(415);
    }

    @Test
    void unknownOutputIs400() {
        assertThat(error(infer("iris", IRIS_BATCH.replace("]}]}", "]}], \"outputs\": [{\"name\": \"logits\"}]}")), 400))
                .contains("logits");
    }

    @Test
    void textToATabularModelIs400() {
        assertThat(error(infer("iris", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1], \"datatype\": \"BYTES\", "
                + "\"data\": [\"hello\"]}]}"), 400)).contains("FP32");
    }

    @Test
    void numbersToATextModelAre400() {
        assertThat(error(infer("sentiment", "{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"FP32\", "
                + "\"data\": [1.0]}]}"), 400)).contains("BYTES");
    }

    @Test
    void wrongWidthIs400() {
        assertThat(error(infer("iris", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 3], \"datatype\": \"FP32\", "
                + "\"data\": [1, 2, 3]}]}"), 400)).contains("[-1, 4]");
    }

    @Test
    void aBatchOverTheLimitIs400() {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 65 * 4; i++) {
            data.append(i == 0 ? "" : ",").append("1.0");
        }
        assertThat(error(infer("iris", "{\"inputs\": [{\"name\": \"input\", \"shape\": [65, 4], \"datatype\": \"FP32\", "
                + "\"data\": [" + data + "]}]}"), 400)).contains("limit");
    }

    @Test
    void aSaturatedModelIs503WithRetryAfterAndASlowOneIs504() throws Exception {
        String body = "{\"inputs\": [{\"name\": \"instances\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"{\\\"x\\\": 1}\"]}]}";
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> infer("slow", body));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> gateway.gateway().registry().find("slow").orElseThrow().bulkhead().running() == 1);
        HttpResponse<String> second = infer("slow", body);
        error(second, 503);
        assertThat(second.headers().firstValue("Retry-After")).contains("1");
        error(first.get(), 504);
    }

    @Test
    void errorsUseTheProtocolsBodyOnRawSockets() throws IOException {
        byte[] request = ("POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 9\r\nConnection: close\r\n\r\n{\"inputs\"").getBytes(StandardCharsets.US_ASCII);
        RawHttp.Response response = RawHttp.exchange(gateway.port(), request, 5000);
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.bodyText()).startsWith("{\"error\":");
    }
}
