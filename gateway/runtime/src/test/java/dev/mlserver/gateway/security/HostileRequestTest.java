package dev.mlserver.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.RawHttp;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Requests the fuzz test found answered with a bare 500 or a body that was not JSON, one
 * scenario each, over a raw socket.
 */
class HostileRequestTest {
    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(TestGateway.examplePlugins());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static RawHttp.Response send(String request) throws IOException {
        return send(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    static RawHttp.Response send(byte[] request) throws IOException {
        RawHttp.Response response = RawHttp.exchange(gateway.port(), request, 10_000);
        assertThat(response.timedOut()).isFalse();
        return response;
    }

    static JsonNode assertJsonError(RawHttp.Response response, int status, String code) throws IOException {
        assertThat(response.status()).as(response.bodyText()).isEqualTo(status);
        assertThat(response.header("content-type")).startsWith("application/json");
        JsonNode body = TestGateway.JSON.readTree(response.body());
        assertThat(body.path("error").path("code").asText()).isEqualTo(code);
        return body;
    }

    @Test
    void aMalformedPercentEscapeInThePathIs400() throws IOException {
        JsonNode body = assertJsonError(send("GET /%zz/predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400,
                "invalid_input");
        assertThat(body.path("error").path("message").asText()).contains("malformed percent-escape");
        assertJsonError(send("GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 400, "invalid_input");
    }

    @Test
    void aMalformedPercentEscapeInTheQueryIs400() throws IOException {
        assertJsonError(send("POST /iris/predict?x=%zz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 2\r\nConnection: close\r\n\r\n{}"), 400, "invalid_input");
    }

    @Test
    void aRequestWithoutHostIs400() throws IOException {
        JsonNode body = assertJsonError(send("GET /iris HTTP/1.1\r\nConnection: close\r\n\r\n"), 400, "invalid_input");
        assertThat(body.path("error").path("message").asText()).contains("'Host' header is required");
    }

    @Test
    void aFormBodyIs415AndIsNeverDecoded() throws IOException {
        String form = "a=" + "b".repeat(20_000);
        assertJsonError(send("POST /iris/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: " + form.length() + "\r\nConnection: close\r\n\r\n" + form), 415, "unsupported_media_type");
        String multipart = "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + "b".repeat(20_000) + "\r\n--xyz--\r\n";
        assertJsonError(send("POST /iris/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
                + "Content-Length: " + multipart.length() + "\r\nConnection: close\r\n\r\n" + multipart), 415,
                "unsupported_media_type");
    }

    @Test
    void aMalformedHeaderLineGetsAJsonBody() throws IOException {
        assertJsonError(send("GET /iris HTTP/1.1\r\nHost: x\r\nBad Header\r\nConnection: close\r\n\r\n"), 400, "invalid_input");
    }

    @Test
    void aRequestLineOverTheLimitIs414WithAJsonBody() throws IOException {
        assertJsonError(send("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414, "uri_too_long");
    }

    @Test
    void headersOverTheLimitAre431WithAJsonBody() throws IOException {
        assertJsonError(send("GET /iris HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(17_000) + "\r\n\r\n"), 431,
                "headers_too_large");
    }

    @Test
    void invalidUtf8InTheBodyIs400() throws IOException {
        byte[] head = "POST /iris/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] body = {'{', '"', 'p', 'a', 'y', 'l', 'o', 'a', 'd', '"', ':', '"', (byte) 0xc3, 0x28, '"', '}'};
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        assertJsonError(send(request), 400, "invalid_json");
    }
}
