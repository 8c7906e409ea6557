package dev.mlserver.gateway.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.server.Gateway;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A real gateway on a free port of 127.0.0.1, with a real HTTP client. Start it with a plugins
 * directory and optional YAML; it is ready (plugins loaded) when {@link #start} returns.
 */
public final class TestGateway implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();

    private final Gateway gateway;
    // HTTP/1.1 as curl and browsers speak it: the JDK client's default h2c upgrade once left a
    // first request unanswered until the server's 120 s idle timeout (seen once, under load)
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestGateway(Gateway gateway) {
        this.gateway = gateway;
    }

    /** The directory where the reactor publishes the example plugin jars. */
    public static Path examplePlugins() {
        String dir = System.getProperty("mlserver.examplePlugins");
        if (dir == null) {
            throw new IllegalStateException("run through Maven: mlserver.examplePlugins is not set");
        }
        return Path.of(dir);
    }

    /** Copies the example plugins {@code names} (iris, sentiment, ...) into {@code dir}, as {@code <name>.jar}. */
    public static void copyExamples(Path dir, String... names) throws java.io.IOException {
        for (String name : names) {
            java.nio.file.Files.copy(examplePlugins().resolve(name + ".jar"), dir.resolve(name + ".jar"));
        }
    }

    public static TestGateway start(Path pluginsDir) {
        return start(pluginsDir, "");
    }

    /** Starts a gateway on {@code pluginsDir} with {@code yaml} as its config file (port forced to 0). */
    public static TestGateway start(Path pluginsDir, String yaml) {
        return start(pluginsDir, yaml, Map.of());
    }

    public static TestGateway start(Path pluginsDir, String yaml, Map<String, String> env) {
        TestGateway test = startLoading(pluginsDir, yaml, env);
        await().atMost(Duration.ofSeconds(60)).until(() -> test.gateway.registry().initialLoadDone()
                && test.gateway.registry().warm());
        return test;
    }

    /** Starts a gateway that is listening and still loading its plugins: readiness may be 503. */
    public static TestGateway startLoading(Path pluginsDir, String yaml, Map<String, String> env) {
        return start(forTest(ConfigLoader.create(env).fromYaml(yaml, "test config"), pluginsDir, yaml.contains("warmup:")), null);
    }

    /**
     * Starts a gateway on {@code pluginsDir} with the config file {@code configFile}, which
     * {@code POST /admin/config/reload} reads again; it is ready (plugins loaded) when this returns.
     */
    public static TestGateway startWithConfigFile(Path pluginsDir, Path configFile) {
        ConfigLoader loader = ConfigLoader.create(Map.of());
        TestGateway test = start(forTest(loader.load(java.util.Optional.of(configFile)), pluginsDir, false),
                () -> forTest(loader.load(java.util.Optional.of(configFile)), pluginsDir, false));
        await().atMost(Duration.ofSeconds(60)).until(() -> test.gateway.registry().initialLoadDone());
        return test;
    }

    private static GatewayConfig forTest(GatewayConfig config, Path pluginsDir, boolean warmup) {
        config = config.withPort(0).withPluginsDir(pluginsDir);
        return new GatewayConfig(new GatewayConfig.Server("127.0.0.1", 0, config.server().maxBodyBytes(),
                config.server().eventLoops(), config.server().nativeTransport(), config.server().connections()), config.api(), config.repository(), config.plugins(), config.limits(), config.onnx(),
                config.security(), config.logging(), config.lifecycle(),
                // tests start many gateways: the serving-path warm-up only where a test asks for it
                warmup ? config.warmup() : GatewayConfig.Warmup.OFF, config.classifiers(),
                new GatewayConfig.Grpc(config.grpc().enabled(), 0));
    }

    private static TestGateway start(GatewayConfig config, java.util.function.Supplier<GatewayConfig> source) {
        Gateway gateway = source == null ? Gateway.create(config) : Gateway.create(config, source);
        int port = gateway.start().await();
        TestGateway test = new TestGateway(gateway);
        if (port <= 0) {
            throw new IllegalStateException("no port");
        }
        return test;
    }

    /** A client for a gateway started elsewhere (a development server, say); closing it stops that gateway. */
    public static TestGateway of(Gateway gateway) {
        return new TestGateway(gateway);
    }

    public Gateway gateway() {
        return gateway;
    }

    public int port() {
        return gateway.port();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    /** POSTs {@code json} with {@code Content-Type: application/json}. */
    public HttpResponse<String> post(String path, String json) {
        return post(path, json.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    /** POSTs raw bytes with the given content type (none when null). */
    public HttpResponse<String> post(String path, byte[] body, String contentType) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return send(request.build());
    }

    /** Sends {@code request} and reads its answer as text (past a JDK client bug: {@link JdkHttp}). */
    public HttpResponse<String> send(HttpRequest request) {
        try {
            return JdkHttp.send(client, request);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpClient client() {
        return client;
    }

    /** Parses a response body as JSON. */
    public static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (status " + response.statusCode() + "): " + response.body(), e);
        }
    }

    @Override
    public void close() {
        gateway.stop();
    }
}
