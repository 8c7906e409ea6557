package dev.mlserver.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.testing.JdkHttp;
import io.netty.channel.epoll.Epoll;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event loops run on Netty's native epoll transport where its library loads (the runtime jar
 * carries it for Linux on x86_64 and aarch64), on NIO where it does not or where
 * {@code server.native_transport} is false; the start-up line says which. Either way the gateway
 * serves, keeps connections alive and refuses what it refuses with the same answers.
 */
class TransportTest {
    @TempDir
    Path plugins;

    @Test
    void theNativeTransportIsUsedWhereItLoads() throws Exception {
        Gateway gateway = start("");
        try {
            if (Epoll.isAvailable()) {
                assertThat(gateway.vertx().isNativeTransportEnabled()).isTrue();
                assertThat(gateway.transport()).isEqualTo("epoll transport");
            } else {
                assertThat(gateway.transport()).startsWith("NIO transport: the native one is unavailable");
            }
            assertServes(gateway);
        } finally {
            gateway.stop();
        }
    }

    @Test
    void nativeTransportFalseKeepsNio() throws Exception {
        Gateway gateway = start("server: {native_transport: false}\n");
        try {
            assertThat(gateway.vertx().isNativeTransportEnabled()).isFalse();
            assertThat(gateway.transport()).isEqualTo("NIO transport: server.native_transport is false");
            assertServes(gateway);
        } finally {
            gateway.stop();
        }
    }

    @Test
    void theDefaultIsNative() {
        GatewayConfig config = ConfigLoader.create(Map.of()).fromYaml("plugins: {watch: false}\n", "test");
        assertThat(config.server().nativeTransport()).isTrue();
    }

    private Gateway start(String yaml) throws Exception {
        GatewayConfig config = ConfigLoader.create(Map.of())
                .fromYaml(yaml + "plugins: {watch: false}\ngrpc: {port: 0}\n", "test")
                .withPort(0).withPluginsDir(plugins);
        Gateway gateway = Gateway.create(config);
        gateway.start().await();
        return gateway;
    }

    /** Two requests on one kept-alive connection, then a malformed path: the same answers on either transport. */
    private static void assertServes(Gateway gateway) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String base = "http://127.0.0.1:" + gateway.port();
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> live = JdkHttp.send(client, HttpRequest.newBuilder(URI.create(base + "/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(200);
        }
        HttpResponse<String> unknown = JdkHttp.send(client, HttpRequest.newBuilder(URI.create(base + "/no-such/predict"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [[1]]}"))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("\"unknown_classifier\"");
    }
}
