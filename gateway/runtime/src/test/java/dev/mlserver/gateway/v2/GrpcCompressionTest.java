package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.v2.GrpcProtocolTest.irises;
import static dev.mlserver.gateway.v2.GrpcProtocolTest.labels;
import static dev.mlserver.gateway.v2.GrpcProtocolTest.refused;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.proto.GRPCInferenceServiceGrpc;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import io.grpc.Codec;
import io.grpc.CompressorRegistry;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ModelInfer messages sent compressed ({@code grpc-encoding}), as grpc-java and Triton's gRPC
 * client send them with a compression algorithm set: read for gzip and deflate, held to
 * {@code server.max_body_bytes} for what they inflate to, and refused with a status, never left
 * unanswered, for a coding not read or bytes that are not it.
 */
class GrpcCompressionTest {
    @TempDir
    static Path plugins;
    static TestGateway gateway;

    @BeforeAll
    static void start() throws IOException {
        TestGateway.copyExamples(plugins, "iris");
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void gzipAndDeflateMessagesAreAnsweredAsThePlainMessage() throws InterruptedException {
        List<String> plain = call(null, stub -> labels(stub.modelInfer(irises())));
        assertThat(plain).hasSize(2);
        List<String> gzip = call(null, stub -> labels(stub.withCompression("gzip").modelInfer(irises())));
        assertThat(gzip).isEqualTo(plain);
        List<String> deflate = call(codec("deflate", DeflaterOutputStream::new), stub -> labels(stub.withCompression("deflate")
                .modelInfer(irises())));
        assertThat(deflate).isEqualTo(plain);
    }

    @Test
    void aMessageThatInflatesPastTheLimitIsResourceExhaustedAndTheNextCallIsAnswered() throws InterruptedException {
        // 16 MiB of zeros, some 16 KB gzipped: under server.max_body_bytes as sent, 16 times over it inflated
        ModelInferRequest bomb = irises().toBuilder().addRawInputContents(ByteString.copyFrom(new byte[16 << 20])).build();
        Status status = call(null, stub -> refused(() -> stub.withCompression("gzip").modelInfer(bomb),
                Status.Code.RESOURCE_EXHAUSTED));
        assertThat(status.getDescription()).isEqualTo("the message inflates to more than server.max_body_bytes (1048576 bytes)");
        List<String> next = call(null, stub -> labels(stub.withCompression("gzip").modelInfer(irises())));
        assertThat(next).hasSize(2);
    }

    @Test
    void aCodingNotReadIsUnimplementedAndBrokenBytesAreInternalNeverUnanswered() throws InterruptedException {
        // a coding the gateway does not read: the bytes are sent as they are, marked compressed
        Status status = call(codec("snappy", out -> out), stub -> refused(() -> stub.withCompression("snappy")
                .modelInfer(irises()), Status.Code.UNIMPLEMENTED));
        assertThat(status.getDescription()).isEqualTo("grpc-encoding snappy is not supported; send gzip, deflate or identity");
        // gzip without its last eight bytes (the checksum and length)
        status = call(codec("gzip", out -> truncated(out, 8)), stub -> refused(() -> stub.withCompression("gzip")
                .modelInfer(irises()), Status.Code.INTERNAL));
        assertThat(status.getDescription()).startsWith("the message is not valid gzip");
    }

    private interface Call<T> {
        T on(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub);
    }

    /** Runs {@code call} on a channel of its own, which compresses with {@code codec} too when given. */
    private static <T> T call(Codec codec, Call<T> call) throws InterruptedException {
        ManagedChannelBuilder<?> builder = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.gateway().grpcPort()).usePlaintext();
        if (codec != null) {
            CompressorRegistry compressors = CompressorRegistry.newEmptyInstance();
            compressors.register(codec);
            builder.compressorRegistry(compressors);
        }
        ManagedChannel channel = builder.build();
        try {
            return call.on(GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private interface Compress {
        OutputStream wrap(OutputStream out) throws IOException;
    }

    private static Codec codec(String name, Compress compress) {
        return new Codec() {
            @Override
            public String getMessageEncoding() {
                return name;
            }

            @Override
            public OutputStream compress(OutputStream os) throws IOException {
                return compress.wrap(os);
            }

            @Override
            public InputStream decompress(InputStream is) {
                return new InflaterInputStream(is);
            }
        };
    }

    /** gzip, less its last {@code drop} bytes. */
    private static OutputStream truncated(OutputStream out, int drop) {
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        return new FilterOutputStream(plain) {
            @Override
            public void close() throws IOException {
                ByteArrayOutputStream zipped = new ByteArrayOutputStream();
                try (GZIPOutputStream gzip = new GZIPOutputStream(zipped)) {
                    gzip.write(plain.toByteArray());
                }
                byte[] bytes = zipped.toByteArray();
                out.write(Arrays.copyOf(bytes, bytes.length - drop));
                out.close();
            }
        };
    }
}
