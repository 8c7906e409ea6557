package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.proto.GRPCInferenceServiceGrpc;
import dev.mlserver.gateway.v2.proto.InferTensorContents;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import dev.mlserver.gateway.v2.proto.ModelMetadataRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two versions of one model side by side: metadata lists both, a pinned route or {@code model_version} reaches either. */
class ProtocolVersionsTest {
    static final String BODY = "{\"inputs\": [{\"name\": \"instances\", \"datatype\": \"BYTES\", \"shape\": [1], "
            + "\"data\": [\"{\\\"x\\\": 2}\"]}]}";

    @TempDir
    static Path plugins;
    static TestGateway gateway;
    static ManagedChannel channel;

    @BeforeAll
    static void start() {
        PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.0.0.jar");
        PluginJars.plugin("fixture").version("1.1.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.1.0.jar");
        gateway = TestGateway.start(plugins);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.gateway().grpcPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
    }

    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    static String version(String path) {
        var response = gateway.post(path, BODY);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return TestGateway.json(response).path("model_version").asText();
    }

    @Test
    void metadataListsEveryLoadedVersion() {
        JsonNode metadata = TestGateway.json(gateway.get("/v2/models/fixture"));
        List<String> versions = new ArrayList<>();
        metadata.path("versions").forEach(v -> versions.add(v.asText()));
        assertThat(versions).containsExactly("1.0.0", "1.1.0");
        assertThat(stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("fixture").build()).getVersionsList())
                .containsExactly("1.0.0", "1.1.0");
    }

    @Test
    void unpinnedRoutesAnswerTheDefaultVersionAndPinnedRoutesEither() {
        assertThat(version("/v2/models/fixture/infer")).isEqualTo("1.1.0");
        assertThat(version("/v2/models/fixture/versions/1.0.0/infer")).isEqualTo("1.0.0");
        assertThat(version("/v2/models/fixture/versions/1.1.0/infer")).isEqualTo("1.1.0");
        assertThat(TestGateway.json(gateway.get("/v2/models/fixture/versions/1.0.0/ready")).path("version").asText())
                .isEqualTo("1.0.0");
    }

    @Test
    void grpcModelVersionPicksTheVersion() {
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("fixture")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("instances").setDatatype("BYTES").addShape(1)
                        .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("{\"x\": 2}"))));
        assertThat(stub().modelInfer(request.build()).getModelVersion()).isEqualTo("1.1.0");
        assertThat(stub().modelInfer(request.setModelVersion("1.0.0").build()).getModelVersion()).isEqualTo("1.0.0");
    }

    @Test
    void aVersionThatIsNotLoadedIsNotFoundAndNamesTheLoadedOnes() {
        var response = gateway.post("/v2/models/fixture/versions/9.9.9/infer", BODY);
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(TestGateway.json(response).path("error").asText()).contains("9.9.9", "[1.0.0, 1.1.0]");
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> stub().modelMetadata(
                ModelMetadataRequest.newBuilder().setName("fixture").setVersion("9.9.9").build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }
}
