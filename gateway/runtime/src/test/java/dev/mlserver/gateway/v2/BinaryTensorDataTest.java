package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.http.Json;
import dev.mlserver.gateway.testing.JdkHttp;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binary tensor data extension of the REST protocol (as the Triton and KServe clients send it
 * by default): the JSON's length in {@code Inference-Header-Content-Length}, each binary input's
 * size in its {@code binary_data_size} parameter and its elements after the JSON, little-endian;
 * binary outputs answered the same way. Bodies are built here byte by byte from the extension's
 * text, not by the gateway's own codec.
 */
class BinaryTensorDataTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final float[] IRIS = {5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f};

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

    /** The body and header a client of the extension sends: JSON, then the binary parts in order. */
    record Body(byte[] bytes, int jsonLength) {
        static Body of(String json, byte[]... parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] head = json.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(head);
            for (byte[] part : parts) {
                out.writeBytes(part);
            }
            return new Body(out.toByteArray(), head.length);
        }
    }

    static byte[] fp32(float... values) {
        ByteBuffer out = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            out.putFloat(v);
        }
        return out.array();
    }

    static byte[] bytesElements(String... texts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String text : texts) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    static HttpResponse<byte[]> post(String model, Body body, String headerLength, String contentType) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/v2/models/" + model + "/infer"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes()));
        if (headerLength != null) {
            request.header("Inference-Header-Content-Length", headerLength);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        try {
            return JdkHttp.send(HTTP, request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static HttpResponse<byte[]> post(String model, Body body) {
        return post(model, body, Integer.toString(body.jsonLength()), null);
    }

    /** A response's JSON part, whichever form it came in. */
    static JsonNode jsonOf(HttpResponse<byte[]> response) throws IOException {
        int length = response.headers().firstValue("Inference-Header-Content-Length").map(Integer::parseInt)
                .orElse(response.body().length);
        return Json.MAPPER.readTree(Arrays.copyOf(response.body(), length));
    }

    static JsonNode output(JsonNode answer, String name) {
        for (JsonNode o : answer.path("outputs")) {
            if (o.path("name").asText().equals(name)) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + answer);
    }

    static String error(HttpResponse<byte[]> response, int status) throws IOException {
        String text = new String(response.body(), StandardCharsets.UTF_8);
        assertThat(response.statusCode()).as(text).isEqualTo(status);
        JsonNode body = Json.MAPPER.readTree(text);
        assertThat(body.size()).as(text).isEqualTo(1);
        return body.path("error").asText();
    }

    @Test
    void theServerListsTheExtension() {
        JsonNode server = TestGateway.json(gateway.get("/v2"));
        assertThat(server.path("extensions").toString()).contains("binary_tensor_data");
    }

    @Test
    void aBinaryFp32InputIsReadAsItsJsonTwinAndTheAnswerIsJsonUnlessAskedOtherwise() throws IOException {
        Body binary = Body.of("{\"id\": \"b-1\", \"inputs\": [{\"name\": \"input\", \"shape\": [2, 4], \"datatype\": \"FP32\","
                + " \"parameters\": {\"binary_data_size\": 32}}]}", fp32(IRIS));
        HttpResponse<byte[]> response = post("iris", binary);
        assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        assertThat(response.headers().firstValue("Inference-Header-Content-Length")).isEmpty();
        JsonNode answer = jsonOf(response);
        JsonNode twin = TestGateway.json(gateway.post("/v2/models/iris/infer", RestProtocolTest.IRIS_BATCH));
        assertThat(answer.path("id").asText()).isEqualTo("b-1");
        assertThat(output(answer, "label").path("data")).isEqualTo(output(twin, "label").path("data"));
        assertThat(output(answer, "probabilities").path("data")).isEqualTo(output(twin, "probabilities").path("data"));
    }

    @Test
    void binaryBytesInAndEveryOutputBinaryOut() throws IOException {
        String[] texts = {"what a wonderful, moving film", "dull, slow and far too long"};
        Body body = Body.of("{\"inputs\": [{\"name\": \"text\", \"shape\": [2], \"datatype\": \"BYTES\", \"parameters\": "
                + "{\"binary_data_size\": " + bytesElements(texts).length + "}}], \"parameters\": {\"binary_data_output\": true}}",
                bytesElements(texts));
        HttpResponse<byte[]> response = post("sentiment", body, Integer.toString(body.jsonLength()), "application/octet-stream");
        assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        int jsonLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode answer = jsonOf(response);
        ByteBuffer rest = ByteBuffer.wrap(response.body(), jsonLength, response.body().length - jsonLength)
                .slice().order(ByteOrder.LITTLE_ENDIAN);
        // the outputs' binary parts follow in the order the JSON lists them
        List<String> labels = new ArrayList<>();
        float[] probabilities = null;
        for (JsonNode o : answer.path("outputs")) {
            assertThat(o.has("data")).as(o.toString()).isFalse();
            int size = o.path("parameters").path("binary_data_size").asInt(-1);
            assertThat(size).as(o.toString()).isPositive();
            ByteBuffer part = rest.slice().limit(size).order(ByteOrder.LITTLE_ENDIAN);
            rest.position(rest.position() + size);
            if (o.path("name").asText().equals("label")) {
                while (part.hasRemaining()) {
                    byte[] text = new byte[part.getInt()];
                    part.get(text);
                    labels.add(new String(text, StandardCharsets.UTF_8));
                }
            } else {
                probabilities = new float[size / 4];
                part.asFloatBuffer().get(probabilities);
            }
        }
        assertThat(rest.hasRemaining()).isFalse();
        JsonNode twin = TestGateway.json(gateway.post("/v2/models/sentiment/infer", "{\"inputs\": [{\"name\": \"text\","
                + " \"shape\": [2], \"datatype\": \"BYTES\", \"data\": [\"" + texts[0] + "\", \"" + texts[1] + "\"]}]}"));
        assertThat(labels).containsExactly(output(twin, "label").path("data").get(0).asText(),
                output(twin, "label").path("data").get(1).asText());
        assertThat(probabilities).hasSize(output(twin, "probabilities").path("data").size());
        for (int i = 0; i < probabilities.length; i++) {
            assertThat(probabilities[i]).isEqualTo(output(twin, "probabilities").path("data").get(i).floatValue());
        }
    }

    @Test
    void oneOutputAskedAsBinaryTheOtherAsJson() throws IOException {
        Body body = Body.of("{\"inputs\": [{\"name\": \"input\", \"shape\": [2, 4], \"datatype\": \"FP32\", \"data\": "
                + Arrays.toString(IRIS) + "}], \"outputs\": [{\"name\": \"label\", \"parameters\": {\"binary_data\": false}},"
                + " {\"name\": \"probabilities\", \"parameters\": {\"binary_data\": true}}]}");
        HttpResponse<byte[]> response = post("iris", body);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode answer = jsonOf(response);
        assertThat(output(answer, "label").path("data").size()).isEqualTo(2);
        assertThat(output(answer, "probabilities").path("parameters").path("binary_data_size").asInt()).isEqualTo(2 * 3 * 4);
        int jsonLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        assertThat(response.body().length - jsonLength).isEqualTo(2 * 3 * 4);
    }

    @Test
    void malformedBinaryRequestsAre400InTheProtocolsErrorShape() throws IOException {
        String iris = "{\"inputs\": [{\"name\": \"input\", \"shape\": [2, 4], \"datatype\": \"FP32\", \"parameters\": "
                + "{\"binary_data_size\": %s}}]}";
        Body good = Body.of(iris.formatted(32), fp32(IRIS));
        // the header claims more JSON than the body has, or is not a number
        assertThat(error(post("iris", good, Integer.toString(good.bytes().length + 1), null), 400))
                .contains("Inference-Header-Content-Length");
        assertThat(error(post("iris", good, "forty", null), 400)).contains("whole number");
        assertThat(error(post("iris", good, "-1", null), 400)).contains("Inference-Header-Content-Length");
        // a binary input without the header: its bytes would be read as JSON
        assertThat(error(post("iris", Body.of(iris.formatted(32)), null, "application/json"), 400))
                .contains("Inference-Header-Content-Length");
        // sizes that do not add up: too few bytes for the shape, more than were sent, bytes left over
        assertThat(error(post("iris", Body.of(iris.formatted(28), fp32(Arrays.copyOf(IRIS, 7)))), 400)).contains("raw bytes");
        assertThat(error(post("iris", Body.of(iris.formatted(64), fp32(IRIS))), 400)).contains("more than");
        assertThat(error(post("iris", Body.of(iris.formatted(32), fp32(IRIS), new byte[3])), 400)).contains("belong to no input");
        assertThat(error(post("iris", Body.of(iris.formatted("-4"), fp32(IRIS))), 400)).contains("whole number");
        assertThat(error(post("iris", Body.of(iris.formatted("\"32\""), fp32(IRIS))), 400)).contains("whole number");
        // both data and binary data; a NaN in binary form; BYTES elements whose lengths overrun
        assertThat(error(post("iris", Body.of("{\"inputs\": [{\"name\": \"input\", \"shape\": [2, 4], \"datatype\": \"FP32\", "
                + "\"data\": " + Arrays.toString(IRIS) + ", \"parameters\": {\"binary_data_size\": 32}}]}", fp32(IRIS))), 400))
                .contains("both");
        float[] nan = IRIS.clone();
        nan[3] = Float.NaN;
        assertThat(error(post("iris", Body.of(iris.formatted(32), fp32(nan))), 400)).contains("finite");
        byte[] overrun = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1000).putInt(0).array();
        assertThat(error(post("sentiment", Body.of("{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\","
                + " \"parameters\": {\"binary_data_size\": 8}}]}", overrun)), 400)).contains("raw bytes");
        // binary text that is not UTF-8
        byte[] latin1 = bytesElements("x");
        latin1[4] = (byte) 0xE9;
        assertThat(error(post("sentiment", Body.of("{\"inputs\": [{\"name\": \"text\", \"shape\": [1], \"datatype\": \"BYTES\","
                + " \"parameters\": {\"binary_data_size\": 5}}]}", latin1)), 400)).contains("UTF-8");
        // an unknown content type is still a 415, with or without the header
        assertThat(post("iris", good, Integer.toString(good.jsonLength()), "text/plain").statusCode()).isEqualTo(415);
        // a malformed binary_data flag on an output
        assertThat(error(post("iris", Body.of("{\"inputs\": [{\"name\": \"input\", \"shape\": [2, 4], \"datatype\": \"FP32\", "
                + "\"data\": " + Arrays.toString(IRIS) + "}], \"outputs\": [{\"name\": \"label\", \"parameters\": "
                + "{\"binary_data\": \"yes\"}}]}")), 400)).contains("true or false");
    }
}
