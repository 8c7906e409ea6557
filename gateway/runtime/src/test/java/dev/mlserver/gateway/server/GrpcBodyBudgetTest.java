package dev.mlserver.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.GrpcService;
import dev.mlserver.gateway.v2.proto.GRPCInferenceServiceGrpc;
import dev.mlserver.gateway.v2.proto.ServerLiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC port's messages share the HTTP port's body budget: a partial message holds the room
 * its prefix declared, a message that does not fit is refused before it is read, and all of it
 * comes back when the stream closes. Driven over a raw HTTP/2 connection, as an attacker would.
 */
class GrpcBodyBudgetTest {
    static final int BUDGET = 4 << 20;
    static final int DECLARED = 900_000;

    @TempDir
    Path plugins;

    @Test
    void partialMessagesHoldTheirDeclaredSizeAndTheOneThatDoesNotFitIsRefusedStream() throws Exception {
        TestGateway.copyExamples(plugins, "iris");
        try (TestGateway gateway = TestGateway.start(plugins, "server:\n  body_memory_bytes: " + BUDGET + "\n")) {
            int port = gateway.gateway().grpcPort();
            try (Socket socket = connect(port)) {
                OutputStream out = socket.getOutputStream();
                byte[] headers = GrpcWarmupConnection.headerBlock(GrpcService.INFER_PATH, "127.0.0.1:" + port, Map.of(), false);
                // four calls, each sending only its message's prefix: 900,000 bytes to come, never sent
                byte[] prefix = ByteBuffer.allocate(5).put((byte) 0).putInt(DECLARED).array();
                for (int stream = 1; stream <= 7; stream += 2) {
                    frame(out, 0x1, 0x4, stream, headers);
                    frame(out, 0x0, 0, stream, prefix);
                }
                out.flush();
                // bodies over 64 KiB may take three quarters of the budget: three of them fit, the fourth does not
                assertThat(resetCode(new DataInputStream(socket.getInputStream()), out, 7)).isEqualTo(0x7);
                assertThat(gateway.gateway().connections().bodyBytesHeld()).isEqualTo(3L * DECLARED);
                assertThat(gateway.get("/metrics").body()).containsPattern("mlserver_http_rejections_total\\{reason=\"body_memory\"} [1-9]");
            }
            // the connection closed: every reservation comes back, and the port serves
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().bodyBytesHeld() == 0);
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                assertThat(GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                        .serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aMessageStillIncompleteAfterTheBodyTimeoutIsCancelledAndGivesItsRoomBack() throws Exception {
        TestGateway.copyExamples(plugins, "iris");
        try (TestGateway gateway = TestGateway.start(plugins, "server:\n  body_timeout_ms: 1000\n")) {
            int port = gateway.gateway().grpcPort();
            try (Socket socket = connect(port)) {
                OutputStream out = socket.getOutputStream();
                frame(out, 0x1, 0x4, 1, GrpcWarmupConnection.headerBlock(GrpcService.INFER_PATH, "127.0.0.1:" + port, Map.of(), false));
                // the prefix and ten bytes of a 900,000-byte message, then nothing more
                frame(out, 0x0, 0, 1, ByteBuffer.allocate(15).put((byte) 0).putInt(DECLARED).array());
                out.flush();
                await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().bodyBytesHeld() == DECLARED);
                assertThat(resetCode(new DataInputStream(socket.getInputStream()), out, 1)).isEqualTo(0x8);
                // given back while the connection stays open
                assertThat(gateway.gateway().connections().bodyBytesHeld()).isZero();
                assertThat(gateway.get("/metrics").body()).containsPattern("mlserver_http_rejections_total\\{reason=\"body_timeout\"} [1-9]");
            }
        }
    }

    /** An HTTP/2 connection to the gRPC port, its preface and empty settings sent. */
    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        frame(socket.getOutputStream(), 0x4, 0, 0, new byte[0]);
        return socket;
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
                (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
        out.write(payload);
    }

    /** Reads frames until {@code stream} is reset; the reset's error code. Settings are acknowledged. */
    private static int resetCode(DataInputStream in, OutputStream out, int stream) throws IOException {
        while (true) {
            int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            int id = in.readInt() & 0x7fffffff;
            byte[] payload = new byte[length];
            in.readFully(payload);
            if (type == 0x4 && (flags & 0x1) == 0) {
                frame(out, 0x4, 0x1, 0, new byte[0]);
                out.flush();
            }
            if (type == 0x3 && id == stream) {
                return ByteBuffer.wrap(payload).getInt();
            }
            assertThat(type).as("a frame of type %d on stream %d before the reset", type, id).isNotEqualTo(0x7);
        }
    }
}
