package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.proto.GRPCInferenceServiceGrpc;
import dev.mlserver.gateway.v2.proto.ModelMetadataRequest;
import dev.mlserver.gateway.v2.proto.ModelReadyRequest;
import dev.mlserver.gateway.v2.proto.ServerLiveRequest;
import dev.mlserver.gateway.v2.proto.ServerMetadataRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens on both forms of the protocol: the same grants as the native routes. */
class ProtocolTokensTest {
    static final String IRIS_TOKEN = "iris-team-4f0c2b7e91d3a856";
    static final String OTHER_TOKEN = "other-team-8b1d6e0a3c5f2947";

    @TempDir
    static Path plugins;
    static TestGateway gateway;
    static ManagedChannel channel;

    @BeforeAll
    static void start() throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        gateway = TestGateway.start(plugins, """
                security:
                  tokens:
                    team-iris:
                      token_env: TOKEN_IRIS
                      classifiers: [iris]
                    team-other:
                      token_env: TOKEN_OTHER
                      classifiers: [other]
                """, Map.of("TOKEN_IRIS", IRIS_TOKEN, "TOKEN_OTHER", OTHER_TOKEN));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.gateway().grpcPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
    }

    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(String token) {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        if (token == null) {
            return stub;
        }
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    static int status(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return gateway.send(request.build()).statusCode();
    }

    static Status.Code code(Runnable call) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        return e == null ? Status.Code.OK : e.getStatus().getCode();
    }

    @Test
    void restServerHealthNeedsNoToken() {
        assertThat(status("/v2/health/live", null)).isEqualTo(200);
        assertThat(status("/v2/health/ready", null)).isEqualTo(200);
    }

    @Test
    void restModelReadinessTellsNoOneWithoutAGrantWhichModelsExist() {
        assertThat(status("/v2/models/iris/ready", null)).isEqualTo(401);
        assertThat(status("/v2/models/no-such-model/ready", null)).isEqualTo(401);
        assertThat(status("/v2/models/iris/ready", OTHER_TOKEN)).isEqualTo(403);
        assertThat(status("/v2/models/no-such-model/ready", OTHER_TOKEN)).isEqualTo(403);
        assertThat(status("/v2/models/iris/versions/1.0.0/ready", OTHER_TOKEN)).isEqualTo(403);
        assertThat(status("/v2/models/iris/ready", IRIS_TOKEN)).isEqualTo(200);
    }

    @Test
    void restModelRoutesNeedAGrantForThatModel() {
        assertThat(status("/v2/models/iris", null)).isEqualTo(401);
        assertThat(status("/v2/models/iris", "not-a-token")).isEqualTo(401);
        assertThat(status("/v2/models/iris", OTHER_TOKEN)).isEqualTo(403);
        assertThat(status("/v2/models/iris", IRIS_TOKEN)).isEqualTo(200);
        assertThat(status("/v2", null)).isEqualTo(401);
        assertThat(status("/v2", OTHER_TOKEN)).isEqualTo(200);
    }

    static java.net.http.HttpResponse<String> openApi(String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/openapi.json"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return gateway.send(request.build());
    }

    @Test
    void theOpenApiDocumentListsAModelsRoutesOnlyToATokenThatMayCallIt() {
        assertThat(openApi(null).statusCode()).isEqualTo(401);
        var other = openApi(OTHER_TOKEN);
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(TestGateway.json(other).get("paths").has("/v2/health/ready")).isTrue();
        assertThat(other.body()).doesNotContain("/v2/models/iris", "iris_v2");
        var iris = openApi(IRIS_TOKEN);
        assertThat(iris.statusCode()).isEqualTo(200);
        assertThat(TestGateway.json(iris).get("paths").get("/v2/models/iris/infer").has("post")).isTrue();
    }

    @Test
    void grpcServerHealthNeedsNoTokenAndModelReadinessAGrant() {
        assertThat(stub(null).serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        ModelReadyRequest iris = ModelReadyRequest.newBuilder().setName("iris").build();
        ModelReadyRequest none = ModelReadyRequest.newBuilder().setName("no-such-model").build();
        assertThat(code(() -> stub(null).modelReady(iris))).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(code(() -> stub(null).modelReady(none))).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(code(() -> stub(OTHER_TOKEN).modelReady(iris))).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(stub(IRIS_TOKEN).modelReady(iris).getReady()).isTrue();
    }

    @Test
    void grpcModelCallsNeedAGrantForThatModel() {
        ModelMetadataRequest iris = ModelMetadataRequest.newBuilder().setName("iris").build();
        assertThat(code(() -> stub(null).modelMetadata(iris))).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(code(() -> stub("not-a-token").modelMetadata(iris))).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(code(() -> stub(OTHER_TOKEN).modelMetadata(iris))).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(code(() -> stub(IRIS_TOKEN).modelMetadata(iris))).isEqualTo(Status.Code.OK);
        assertThat(code(() -> stub(null).serverMetadata(ServerMetadataRequest.getDefaultInstance())))
                .isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(code(() -> stub(OTHER_TOKEN).serverMetadata(ServerMetadataRequest.getDefaultInstance())))
                .isEqualTo(Status.Code.OK);
    }
}
