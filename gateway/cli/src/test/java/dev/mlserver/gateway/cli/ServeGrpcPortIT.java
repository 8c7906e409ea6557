package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ml_server serve --grpc-port N} moves the Open Inference Protocol's gRPC port over
 * {@code grpc.port}; 0 picks a free one, and the start-up line names it. Runs the packaged jar
 * as a user does, in the integration-test phase.
 */
class ServeGrpcPortIT {
    static final Pattern LISTENING = Pattern.compile(
            "listening on 127\\.0\\.0\\.1:(\\d+) \\(.*?transport.*?\\), gRPC \\(inference\\.GRPCInferenceService\\) on 127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private Process server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.destroyForcibly();
        }
    }

    @Test
    void theOptionIsParsedAndAbsentMeansTheConfigDecides() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--grpc-port", "0");
        assertThat(serve.grpcPort).isZero();
        ServeCommand none = new ServeCommand();
        new CommandLine(none).parseArgs();
        assertThat(none.grpcPort).isNull();
        assertThat(new CommandLine(new ServeCommand()).getUsageMessage()).contains("--grpc-port=N");
    }

    @Test
    void portZeroPicksAFreePortOverTheConfiguredOneAndTheStartUpLineNamesIt() throws Exception {
        Path jar = Path.of(System.getProperty("mlserver.jar", "target/ml_server.jar"));
        assertThat(jar).as("run through Maven's integration-test phase, after package").exists();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // the configured gRPC port is busy: only the flag lets the gateway start
            Path config = Files.writeString(dir.resolve("gateway.yaml"), """
                    server: {host: 127.0.0.1, port: 0}
                    grpc: {port: %d}
                    plugins: {watch: false}
                    """.formatted(taken.getLocalPort()));
            Path plugins = Files.createDirectories(dir.resolve("plugins"));
            Path log = dir.resolve("server.log");
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            server = new ProcessBuilder(java.toString(), "-Xmx256m", "-jar", jar.toString(), "serve", "--config",
                    config.toString(), "--plugins-dir", plugins.toString(), "--grpc-port", "0")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            AtomicReference<Matcher> line = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                Matcher m = LISTENING.matcher(Files.readString(log));
                if (m.find()) {
                    line.set(m);
                }
                return line.get() != null || !server.isAlive();
            });
            assertThat(line.get()).as(Files.readString(log)).isNotNull();
            int http = Integer.parseInt(line.get().group(1));
            int grpc = Integer.parseInt(line.get().group(2));
            assertThat(grpc).isPositive().isNotEqualTo(http).isNotEqualTo(taken.getLocalPort());
            assertThat(serverLive(grpc)).isTrue();
        }
    }

    /**
     * ServerLive over HTTP/2 without TLS, as any gRPC client sends it: an empty request message in
     * its 5-byte frame; the answer {@code live: true} is the frame 0 0 0 0 2 0x08 0x01, then
     * {@code grpc-status: 0} in the trailers.
     */
    static boolean serverLive(int port) throws IOException {
        Vertx vertx = Vertx.vertx();
        try {
            HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                    .setHttp2ClearTextUpgrade(false));
            RequestOptions call = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
                    .setURI("/inference.GRPCInferenceService/ServerLive").putHeader("content-type", "application/grpc")
                    .putHeader("te", "trailers");
            AtomicReference<HttpClientResponse> response = new AtomicReference<>();
            Buffer body = client.request(call)
                    .compose(request -> request.send(Buffer.buffer(new byte[5])))
                    .compose(r -> {
                        response.set(r);
                        return r.body();
                    })
                    .await();
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().getHeader("content-type")).startsWith("application/grpc");
            assertThat(response.get().getTrailer("grpc-status")).isEqualTo("0");
            return body.equals(Buffer.buffer(new byte[] {0, 0, 0, 0, 2, 0x08, 0x01}));
        } finally {
            vertx.close().await();
        }
    }
}
