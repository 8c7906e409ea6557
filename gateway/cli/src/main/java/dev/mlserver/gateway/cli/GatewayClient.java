package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** A small HTTP client for the commands that talk to a running gateway. */
final class GatewayClient {
    static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final Duration timeout;
    private final HttpClient client;

    /** One answer: status, body, the body as JSON when it is JSON, and the round trip. */
    record Reply(int status, String body, Optional<JsonNode> json, double millis) {
        boolean ok() {
            return status / 100 == 2;
        }

        /** {@code code: message} of an error body, or the status alone. */
        String error() {
            return json.map(j -> j.path("error"))
                    .filter(JsonNode::isObject)
                    .map(e -> e.path("code").asText() + ": " + e.path("message").asText())
                    .orElse("HTTP " + status);
        }
    }

    /** The gateway could not be reached, or did not answer in time. */
    static final class Unreachable extends ToolException {
        Unreachable(String message) {
            super(message);
        }
    }

    GatewayClient(String url, String token, Duration timeout) {
        String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.base = URI.create(trimmed);
        if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https"))
                || base.getHost() == null) {
            throw new IllegalArgumentException("--url must look like http://host:port, got '" + url + "'");
        }
        this.token = token == null || token.isBlank() ? null : token.trim();
        this.timeout = timeout;
        // plain HTTP/1.1, no h2c upgrade: one round trip per call, as curl does
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    }

    URI uri(String path) {
        return URI.create(base + path);
    }

    Reply get(String path) {
        return send(request(path).GET().build());
    }

    Reply post(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(timeout).header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private Reply send(HttpRequest request) {
        long start = System.nanoTime();
        HttpResponse<String> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            throw new Unreachable("cannot connect to " + base + ": is `ml_server serve` running there? (pass --url)");
        } catch (HttpTimeoutException e) {
            throw new Unreachable(request.method() + " " + request.uri() + " did not answer within " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            throw new Unreachable(request.method() + " " + request.uri() + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        }
        double millis = (System.nanoTime() - start) / 1e6;
        Optional<JsonNode> json;
        try {
            json = Optional.of(JSON.readTree(response.body())).filter(j -> !j.isMissingNode());
        } catch (IOException e) {
            json = Optional.empty();
        }
        return new Reply(response.statusCode(), response.body(), json, millis);
    }

    /** What to tell the user when a route answered 401 or 403. */
    static String authHint(Reply reply) {
        return reply.status() == 401 ? "the gateway wants a bearer token: pass --token or set MLSERVER_TOKEN"
                : "the token was refused for this route (403)";
    }
}
