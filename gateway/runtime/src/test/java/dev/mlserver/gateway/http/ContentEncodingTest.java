package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.http.InflationTest.deflate;
import static dev.mlserver.gateway.http.InflationTest.gzip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.RawConnection;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request bodies sent compressed, as Triton's HTTP client sends them with
 * {@code request_compression_algorithm}: read on the native and the Open Inference Protocol's
 * routes, held to {@code server.max_body_bytes} for what they inflate to.
 */
class ContentEncodingTest {
    static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";
    static final String V2 = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [5.1, 3.5, 1.4, 0.2]}]}";
    static final int MAX_BODY = 64 * 1024;

    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        TestGateway.copyExamples(plugins, "iris");
        gateway = TestGateway.start(plugins, "server:\n  max_body_bytes: " + MAX_BODY + "\n");
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void gzipAndDeflateBodiesAreAnsweredAsThePlainBody() throws IOException {
        byte[] plain = IRIS.getBytes(StandardCharsets.UTF_8);
        JsonNode expected = TestGateway.json(gateway.post("/iris/predict", IRIS)).get("predictions");
        for (var sent : new Object[][] {{"gzip", gzip(plain)}, {"x-gzip", gzip(plain)}, {"deflate", deflate(plain, false)},
                {"deflate", deflate(plain, true)}, {"identity", plain}, {"gzip, gzip", gzip(gzip(plain))}}) {
            HttpResponse<String> answer = send("/iris/predict", "application/json", (String) sent[0], (byte[]) sent[1], null);
            assertThat(answer.statusCode()).as("%s: %s", sent[0], answer.body()).isEqualTo(200);
            assertThat(TestGateway.json(answer).get("predictions")).isEqualTo(expected);
        }
        byte[] v2 = V2.getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = send("/v2/models/iris/infer", "application/json", "gzip", gzip(v2), null);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(TestGateway.json(answer).at("/outputs/0/data/0").asText()).isEqualTo(expected.get(0).asText());
    }

    @Test
    void binaryTensorDataIsCompressedWholeItsHeaderLengthCountingTheInflatedJson() throws IOException {
        byte[] json = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"parameters\": {\"binary_data_size\": 16}}]}"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(json.length + 16).order(ByteOrder.LITTLE_ENDIAN).put(json);
        for (float v : new float[] {5.1f, 3.5f, 1.4f, 0.2f}) {
            body.putFloat(v);
        }
        HttpResponse<String> answer = send("/v2/models/iris/infer", "application/octet-stream", "deflate",
                deflate(body.array(), false), String.valueOf(json.length));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(TestGateway.json(answer).at("/outputs/0/data/0").asText()).isEqualTo("setosa");
    }

    @Test
    void aBodyThatInflatesPastTheLimitIs413AndTheGatewayGoesOn() throws IOException {
        byte[] spaces = new byte[32 << 20];
        Arrays.fill(spaces, (byte) ' ');
        byte[] bomb = gzip(spaces);
        // under the limit as sent, 512 times over it inflated
        assertThat(bomb.length).isLessThan(MAX_BODY);
        HttpResponse<String> answer = send("/iris/predict", "application/json", "gzip", bomb, null);
        assertThat(answer.statusCode()).isEqualTo(413);
        assertThat(TestGateway.json(answer).at("/error/code").asText()).isEqualTo("payload_too_large");
        assertThat(TestGateway.json(answer).at("/error/message").asText())
                .isEqualTo("the body inflates to more than " + MAX_BODY + " bytes (server.max_body_bytes)");
        answer = send("/v2/models/iris/infer", "application/json", "deflate", deflate(spaces, false), null);
        assertThat(answer.statusCode()).isEqualTo(413);
        assertThat(TestGateway.json(answer).get("error").asText()).startsWith("the body inflates to more than");
        assertThat(gateway.post("/iris/predict", IRIS).statusCode()).isEqualTo(200);
    }

    @Test
    void anUnknownCodingIs415BeforeTheBodyIsReadAndBrokenBytesAre400() throws IOException {
        byte[] plain = IRIS.getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = send("/iris/predict", "application/json", "br", plain, null);
        assertThat(answer.statusCode()).isEqualTo(415);
        assertThat(TestGateway.json(answer).at("/error/message").asText())
                .isEqualTo("Content-Encoding br: content coding 'br' is not supported; send gzip, deflate or identity");
        answer = send("/v2/models/iris/infer", "application/json", "gzip, zstd", plain, null);
        assertThat(answer.statusCode()).isEqualTo(415);
        assertThat(TestGateway.json(answer).get("error").asText()).contains("'zstd' is not supported");
        byte[] zipped = gzip(plain);
        answer = send("/iris/predict", "application/json", "gzip", Arrays.copyOf(zipped, zipped.length - 10), null);
        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(TestGateway.json(answer).at("/error/code").asText()).isEqualTo("invalid_json");
        assertThat(TestGateway.json(answer).at("/error/message").asText()).startsWith("the body is not valid gzip");
        // a body said to be gzip that is not
        answer = send("/v2/models/iris/infer", "application/json", "gzip", V2.getBytes(StandardCharsets.UTF_8), null);
        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(TestGateway.json(answer).get("error").asText()).startsWith("the body is not valid gzip");
    }

    @Test
    void aCompressedBodyReservesRoomForWhatItInflatesToUntilItIsAnswered() throws Exception {
        byte[] zipped = gzip(IRIS.getBytes(StandardCharsets.UTF_8));
        try (RawConnection c = RawConnection.open(gateway.port())) {
            c.send("POST /iris/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                    + "Content-Length: " + zipped.length + "\r\n\r\n");
            c.send(Arrays.copyOf(zipped, 10));
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().bodyBytesHeld() > 0);
            assertThat(gateway.gateway().connections().bodyBytesHeld()).isEqualTo(zipped.length + (long) MAX_BODY);
            c.send(Arrays.copyOfRange(zipped, 10, zipped.length));
            assertThat(c.read(10_000)).hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(200));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().bodyBytesHeld() == 0);
    }

    private static HttpResponse<String> send(String path, String type, String coding, byte[] body, String headerLength) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path)).header("Content-Type", type)
                .header("Content-Encoding", coding).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headerLength != null) {
            request.header("Inference-Header-Content-Length", headerLength);
        }
        return gateway.send(request.build());
    }
}
