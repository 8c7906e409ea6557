package dev.mlserver.gateway.connection;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.RawConnection;
import dev.mlserver.gateway.testing.RawHttp;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connections to the gRPC port count against {@code server.max_connections}, as the HTTP port's do. */
class GrpcConnectionCapTest {
    static final int MAX_CONNECTIONS = 20;
    /** An HTTP/2 client's first bytes: the connection preface and an empty SETTINGS frame. */
    static final byte[] PREFACE = concat("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
            new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});

    static TestGateway gateway;

    @BeforeAll
    static void start(@TempDir Path plugins) throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        gateway = TestGateway.start(plugins, """
                server:
                  max_connections: %d
                plugins:
                  watch: false
                """.formatted(MAX_CONNECTIONS));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void grpcConnectionsFillTheCapAndThePortsRefuseMoreUntilOneCloses() throws Exception {
        List<RawConnection> held = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                held.add(http2());
            }
            assertThat(openConnectionsBecome(n -> n == MAX_CONNECTIONS)).as("all counted").isTrue();

            // one more HTTP/2 connection is closed at once; the HTTP port answers 503 and closes
            try (RawConnection extra = http2()) {
                assertThat(extra.closedByServer(5000)).as("the gRPC connection past the cap").isTrue();
            }
            try (RawConnection http = RawConnection.open(gateway.port())) {
                http.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
                Optional<RawHttp.Response> answer = http.read(5000);
                assertThat(answer).isPresent();
                assertThat(answer.get().status()).isEqualTo(503);
                JsonNode body = TestGateway.JSON.readTree(answer.get().body());
                assertThat(body.path("error").path("code").asText()).isEqualTo("overloaded");
            }
            assertThat(gateway.gateway().connections().openConnections()).isLessThanOrEqualTo(MAX_CONNECTIONS);
            for (RawConnection c : held) {
                assertThat(c.closedByServer(10)).as("admitted connections stay open").isFalse();
            }

            // room again once one of them closes
            held.remove(0).close();
            assertThat(openConnectionsBecome(n -> n == MAX_CONNECTIONS - 1)).as("its close counted").isTrue();
            RawConnection again = http2();
            held.add(again);
            assertThat(again.closedByServer(1000)).as("a gRPC connection once there is room").isFalse();
        } finally {
            held.forEach(RawConnection::close);
        }
        assertThat(openConnectionsBecome(n -> n == 0)).as("every close counted").isTrue();
    }

    private static RawConnection http2() throws IOException {
        RawConnection connection = RawConnection.open(gateway.gateway().grpcPort());
        connection.send(PREFACE);
        return connection;
    }

    /** Whether the count of open connections meets {@code wanted} within 5 s. */
    private static boolean openConnectionsBecome(IntPredicate wanted) throws InterruptedException {
        for (long deadline = System.nanoTime() + 5_000_000_000L; System.nanoTime() < deadline; Thread.sleep(20)) {
            if (wanted.test(gateway.gateway().connections().openConnections())) {
                return true;
            }
        }
        return wanted.test(gateway.gateway().connections().openConnections());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
