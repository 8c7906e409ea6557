package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.proto.GRPCInferenceServiceGrpc;
import dev.mlserver.gateway.v2.proto.InferTensorContents;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import dev.mlserver.gateway.v2.proto.ModelInferResponse;
import dev.mlserver.gateway.v2.proto.ModelMetadataRequest;
import dev.mlserver.gateway.v2.proto.ModelMetadataResponse;
import dev.mlserver.gateway.v2.proto.ModelReadyRequest;
import dev.mlserver.gateway.v2.proto.ServerLiveRequest;
import dev.mlserver.gateway.v2.proto.ServerMetadataRequest;
import dev.mlserver.gateway.v2.proto.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inference.GRPCInferenceService} per call, for a tabular (iris) and a text (sentiment)
 * classifier, through a grpc-java client generated from the project's .proto.
 */
class GrpcProtocolTest {
    static final float[] TWO_IRISES = {5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f};

    @TempDir
    static Path plugins;
    static TestGateway gateway;
    static ManagedChannel channel;
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeAll
    static void start() throws IOException {
        TestGateway.copyExamples(plugins, "iris", "sentiment");
        PluginJars.plugin("slow").classifier(FixtureClassifier.class)
                .yaml("sleep_ms: 1500\nlimits:\n  max_concurrent_predictions: 1\n  max_queue: 0\n  timeout_ms: 300\n")
                .writeTo(plugins, "slow.jar");
        gateway = TestGateway.start(plugins);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.gateway().grpcPort()).usePlaintext().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
    }

    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
        return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    static ModelInferRequest.InferInputTensor.Builder input(String name, String datatype, long... shape) {
        ModelInferRequest.InferInputTensor.Builder b = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(name).setDatatype(datatype);
        for (long d : shape) {
            b.addShape(d);
        }
        return b;
    }

    static ModelInferRequest irises() {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (float v : TWO_IRISES) {
            c.addFp32Contents(v);
        }
        return ModelInferRequest.newBuilder().setModelName("iris").setId("g-1")
                .addInputs(input("input", "FP32", 2, 4).setContents(c)).build();
    }

    static ModelInferRequest texts(String... texts) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (String t : texts) {
            c.addBytesContents(ByteString.copyFromUtf8(t));
        }
        return ModelInferRequest.newBuilder().setModelName("sentiment")
                .addInputs(input("text", "BYTES", texts.length).setContents(c)).build();
    }

    static List<String> labels(ModelInferResponse response) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < response.getOutputsCount(); i++) {
            if (response.getOutputs(i).getName().equals("label")) {
                if (response.getRawOutputContentsCount() > 0) {
                    ByteBuffer in = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                    while (in.hasRemaining()) {
                        byte[] label = new byte[in.getInt()];
                        in.get(label);
                        out.add(new String(label, StandardCharsets.UTF_8));
                    }
                } else {
                    response.getOutputs(i).getContents().getBytesContentsList().forEach(b -> out.add(b.toStringUtf8()));
                }
            }
        }
        return out;
    }

    /** The contract of every refusal: this status code, never INTERNAL. */
    static Status refused(Runnable call, Status.Code code) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        assertThat(e).as("expected " + code).isNotNull();
        assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
        return e.getStatus();
    }

    @Test
    void serverIsLiveAndReady() {
        assertThat(stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(stub().serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    }

    @Test
    void serverMetadataNamesTheServer() {
        var metadata = stub().serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertThat(metadata.getName()).isEqualTo("mlserver");
        assertThat(metadata.getVersion()).isNotBlank();
    }

    @Test
    void modelReadyForEachModelAndVersion() {
        String version = gateway.gateway().registry().find("iris").orElseThrow().info().version();
        assertThat(stub().modelReady(ModelReadyRequest.newBuilder().setName("iris").build()).getReady()).isTrue();
        assertThat(stub().modelReady(ModelReadyRequest.newBuilder().setName("sentiment").build()).getReady()).isTrue();
        assertThat(stub().modelReady(ModelReadyRequest.newBuilder().setName("iris").setVersion(version).build()).getReady())
                .isTrue();
    }

    @Test
    void modelMetadataMatchesTheRestRoute() {
        ModelMetadataResponse iris = stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("iris").build());
        assertThat(iris.getPlatform()).isEqualTo("mlserver_tabular");
        assertThat(iris.getInputs(0).getName()).isEqualTo("input");
        assertThat(iris.getInputs(0).getShapeList()).containsExactly(-1L, 4L);
        assertThat(iris.getOutputs(1).getShapeList()).containsExactly(-1L, 3L);
        assertThat(iris.getVersionsList()).containsExactly(gateway.gateway().registry().find("iris").orElseThrow().info().version());
        ModelMetadataResponse sentiment = stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("sentiment").build());
        assertThat(sentiment.getInputs(0).getDatatype()).isEqualTo("BYTES");
    }

    @Test
    void irisBatchInTypedContents() {
        ModelInferResponse response = stub().modelInfer(irises());
        assertThat(response.getModelName()).isEqualTo("iris");
        assertThat(response.getId()).isEqualTo("g-1");
        assertThat(labels(response)).containsExactly("setosa", "virginica");
        ModelInferResponse.InferOutputTensor probabilities = response.getOutputs(1);
        assertThat(probabilities.getShapeList()).containsExactly(2L, 3L);
        assertThat(probabilities.getContents().getFp32ContentsCount()).isEqualTo(6);
        for (String field : List.of("repository", "classifier", "version", "git_tag", "git_commit", "trained_at",
                "api_version", "model_metrics")) {
            assertThat(response.getParametersMap()).as(field).containsKey(field);
        }
        assertThat(response.getParametersOrThrow("classifier").getStringParam()).isEqualTo("iris");
    }

    @Test
    void irisBatchInRawContentsIsAnsweredInRawContents() {
        ByteBuffer raw = ByteBuffer.allocate(TWO_IRISES.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : TWO_IRISES) {
            raw.putFloat(v);
        }
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("iris")
                .addInputs(input("input", "FP32", 2, 4)).addRawInputContents(ByteString.copyFrom(raw.array())).build();
        ModelInferResponse response = stub().modelInfer(request);
        assertThat(response.getRawOutputContentsCount()).isEqualTo(2);
        assertThat(labels(response)).containsExactly("setosa", "virginica");
        ByteBuffer probabilities = response.getRawOutputContents(1).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(probabilities.remaining()).isEqualTo(6 * 4);
        float[] typed = new float[6];
        for (int i = 0; i < 6; i++) {
            typed[i] = stub().modelInfer(irises()).getOutputs(1).getContents().getFp32Contents(i);
        }
        for (int i = 0; i < 6; i++) {
            assertThat(probabilities.getFloat()).isEqualTo(typed[i]);
        }
    }

    @Test
    void requestedOutputsAreTheOnlyOnesSent() {
        ModelInferResponse response = stub().modelInfer(irises().toBuilder()
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("probabilities")).build());
        assertThat(response.getOutputsCount()).isEqualTo(1);
        assertThat(response.getOutputs(0).getName()).isEqualTo("probabilities");
    }

    @Test
    void sentimentBatchOfBytesTexts() {
        ModelInferResponse response = stub().modelInfer(texts("I loved this film, wonderful acting",
                "terrible, boring and far too long"));
        assertThat(labels(response)).containsExactly("positive", "negative");
        assertThat(response.getOutputs(1).getShapeList()).containsExactly(2L, 2L);
    }

    @Test
    void sentimentInRawBytesContents() {
        byte[] text = "a wonderful, moving film".getBytes(StandardCharsets.UTF_8);
        ByteBuffer raw = ByteBuffer.allocate(4 + text.length).order(ByteOrder.LITTLE_ENDIAN).putInt(text.length).put(text);
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("sentiment")
                .addInputs(input("text", "BYTES", 1)).addRawInputContents(ByteString.copyFrom(raw.array())).build();
        assertThat(labels(stub().modelInfer(request))).containsExactly("positive");
    }

    // ---- error paths ----

    @Test
    void unknownModelOrVersionIsNotFound() {
        refused(() -> stub().modelInfer(irises().toBuilder().setModelName("nope").build()), Status.Code.NOT_FOUND);
        refused(() -> stub().modelInfer(irises().toBuilder().setModelVersion("9.9.9").build()), Status.Code.NOT_FOUND);
        refused(() -> stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()), Status.Code.NOT_FOUND);
        refused(() -> stub().modelReady(ModelReadyRequest.newBuilder().setName("nope").build()), Status.Code.NOT_FOUND);
    }

    @Test
    void shapeAndDataThatDisagreeAreInvalidArgument() {
        ModelInferRequest request = irises().toBuilder().setInputs(0, irises().getInputs(0).toBuilder().setShape(0, 3)).build();
        assertThat(refused(() -> stub().modelInfer(request), Status.Code.INVALID_ARGUMENT).getDescription()).contains("shape");
    }

    @Test
    void contentsInAnotherTypesFieldAreInvalidArgument() {
        ModelInferRequest request = irises().toBuilder().setInputs(0, irises().getInputs(0).toBuilder().setDatatype("INT64"))
                .build();
        refused(() -> stub().modelInfer(request), Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void aMessageOverMaxBodyBytesIsResourceExhaustedAndSaysWhy() {
        ModelInferRequest tooLarge = texts("x".repeat(1_100_000));

        Status refusal = refused(() -> stub().modelInfer(tooLarge), Status.Code.RESOURCE_EXHAUSTED);

        assertThat(refusal.getDescription()).contains("max_body_bytes", "1048576");
        // the connection serves the next call
        assertThat(labels(stub().modelInfer(irises()))).containsExactly("setosa", "virginica");
    }

    @Test
    void aUnaryCallWithTwoMessagesIsInternalAndOneWithNoneIsInvalidArgument() throws Exception {
        // what grpc-java's own servers answer: a unary call takes exactly one request message
        assertThat(rawCall(irises(), irises())).satisfies(status -> {
            assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL);
            assertThat(status.getDescription()).isEqualTo("a unary call takes one request message; this one sent more");
        });
        assertThat(rawCall()).satisfies(status -> {
            assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(status.getDescription()).isEqualTo("the call ended without a request message");
        });
        assertThat(labels(stub().modelInfer(irises()))).containsExactly("setosa", "virginica");
    }

    /** A ModelInfer call sending {@code messages} as they are, however many; the status it ends with. */
    private static Status rawCall(ModelInferRequest... messages) throws Exception {
        CompletableFuture<Status> closed = new CompletableFuture<>();
        io.grpc.ClientCall<ModelInferRequest, ModelInferResponse> call = channel.newCall(
                GRPCInferenceServiceGrpc.getModelInferMethod(), io.grpc.CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS));
        call.start(new io.grpc.ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, io.grpc.Metadata trailers) {
                closed.complete(status);
            }
        }, new io.grpc.Metadata());
        call.request(2);
        for (ModelInferRequest message : messages) {
            call.sendMessage(message);
        }
        call.halfClose();
        return closed.get(30, TimeUnit.SECONDS);
    }

    @Test
    void rawContentsOfTheWrongSizeAreInvalidArgument() {
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("iris")
                .addInputs(input("input", "FP32", 2, 4)).addRawInputContents(ByteString.copyFrom(new byte[31])).build();
        refused(() -> stub().modelInfer(request), Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void bytesThatAreNotUtf8AreInvalidArgument() {
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("sentiment")
                .addInputs(input("text", "BYTES", 1).setContents(InferTensorContents.newBuilder()
                        .addBytesContents(ByteString.copyFrom(new byte[] {(byte) 0xC3, (byte) 0x28})))).build();
        assertThat(refused(() -> stub().modelInfer(request), Status.Code.INVALID_ARGUMENT).getDescription()).contains("UTF-8");
    }

    @Test
    void unknownOutputIsInvalidArgument() {
        refused(() -> stub().modelInfer(irises().toBuilder()
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits")).build()),
                Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void saturatedIsUnavailableAndSlowIsDeadlineExceeded() throws Exception {
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("slow")
                .addInputs(input("instances", "BYTES", 1).setContents(InferTensorContents.newBuilder()
                        .addBytesContents(ByteString.copyFromUtf8("{\"x\": 1}")))).build();
        CompletableFuture<Status> first = CompletableFuture.supplyAsync(() -> refused(() -> stub().modelInfer(request),
                Status.Code.DEADLINE_EXCEEDED));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> gateway.gateway().registry().find("slow").orElseThrow().bulkhead().running() == 1);
        refused(() -> stub().modelInfer(request), Status.Code.UNAVAILABLE);
        assertThat(first.get().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    }
}
