package dev.mlserver.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.RawHttp;
import dev.mlserver.gateway.testing.TestGateway;
import dev.mlserver.gateway.v2.proto.GRPCInferenceServiceGrpc;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import dev.mlserver.gateway.v2.proto.ModelInferResponse;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Generated hostile requests, sent over a real socket to one gateway serving every example
 * plugin plus a fixture, with tokens on: random and malformed JSON, wrong types and shapes,
 * huge numbers, NaN/Infinity, deep nesting, long strings, invalid UTF-8, wrong content types,
 * dot segments, encoded slashes and look-alike classifier names, bad tokens. Every answer must be
 * a documented status with a JSON error body, within the timeout. Open Inference Protocol
 * tensors no model may take ({@link HostileTensors}), over REST and gRPC, must each be refused
 * as invalid: 400 with {@code {"error": "..."}}, or INVALID_ARGUMENT. Afterwards the gateway must
 * still predict correctly on every protocol.
 */
class HostileInputFuzzTest {
    static final int TRIES = 10_500;
    static final int TENSOR_TRIES = 1_500;
    static final int GRPC_TRIES = 1_500;
    static final int BINARY_TRIES = 1_000;
    static final int TIMEOUT_MS = 10_000;
    static final int MAX_BODY = 64 * 1024;
    static final String TOKEN = "fuzz-everything-5e1c9a0b7d3f";
    static final String LIMITED_TOKEN = "fuzz-fixture-only-2b8d4f6a";
    static final Set<Integer> DOCUMENTED = Set.of(200, 400, 401, 403, 404, 405, 413, 414, 415, 431, 503, 504);
    static final ObjectMapper STRICT = new ObjectMapper();

    static TestGateway gateway;
    static Path dir;
    static List<String> classifiers;
    static ManagedChannel channel;
    static final AtomicInteger sent = new AtomicInteger();
    static final AtomicInteger tensorsSent = new AtomicInteger();
    static final AtomicInteger grpcSent = new AtomicInteger();
    static final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("mlserver-fuzz-");
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (Stream<Path> jars = Files.list(TestGateway.examplePlugins())) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                Files.copy(jar, plugins.resolve(jar.getFileName()));
            }
        }
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        Path token = Files.writeString(dir.resolve("token"), TOKEN + "\n");
        Path limited = Files.writeString(dir.resolve("limited"), LIMITED_TOKEN + "\n");
        gateway = TestGateway.start(plugins, """
                server:
                  max_body_bytes: %d
                security:
                  tokens:
                    fuzz: {token_file: %s, classifiers: ["*"]}
                    limited: {token_file: %s, classifiers: [fixture]}
                """.formatted(MAX_BODY, token, limited));
        classifiers = gateway.gateway().registry().serving().stream().map(c -> c.info().name()).toList();
        assertThat(classifiers).contains("iris", "sentiment", "fixture");
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.gateway().grpcPort()).usePlaintext().build();
    }

    @AfterContainer
    static void stillServesCorrectlyAfterwards() throws IOException {
        if (gateway == null) {
            return; // the start failed, and says why
        }
        try {
            Map<Integer, Integer> summary = new TreeMap<>();
            statuses.forEach((status, count) -> summary.put(status, count.get()));
            System.out.println("hostile requests sent: " + sent.get() + "; by status: " + summary
                    + "; server errors (5xx other than 503/504): "
                    + summary.entrySet().stream().filter(e -> e.getKey() >= 500 && e.getKey() != 503 && e.getKey() != 504)
                    .mapToInt(Map.Entry::getValue).sum());
            assertThat(sent.get()).isGreaterThanOrEqualTo(10_000);
            assertThat(summary.keySet()).isSubsetOf(DOCUMENTED);
            RawHttp.Response iris = RawHttp.exchange(gateway.port(), request("POST", "/iris/predict", "application/json",
                    "Bearer " + TOKEN, "{\"payload\": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}".getBytes(StandardCharsets.UTF_8),
                    false), TIMEOUT_MS);
            assertThat(iris.status()).as(iris.bodyText()).isEqualTo(200);
            assertThat(STRICT.readTree(iris.body()).get("predictions")).extracting(JsonNode::asText)
                    .containsExactly("setosa", "virginica");
            RawHttp.Response ready = RawHttp.exchange(gateway.port(), request("GET", "/health/ready", null, null, new byte[0],
                    false), TIMEOUT_MS);
            assertThat(ready.status()).isEqualTo(200);
            assertThat(STRICT.readTree(ready.body()).get("failed_plugins").asInt()).isZero();
            System.out.println("hostile tensors sent: REST " + tensorsSent.get() + ", gRPC " + grpcSent.get());
            RawHttp.Response v2 = RawHttp.exchange(gateway.port(), request("POST", "/v2/models/iris/infer", "application/json",
                    "Bearer " + TOKEN, HostileTensors.body(HostileTensors.validInput("iris")).toString()
                            .getBytes(StandardCharsets.UTF_8), false), TIMEOUT_MS);
            assertThat(v2.status()).as(v2.bodyText()).isEqualTo(200);
            assertThat(STRICT.readTree(v2.body()).at("/outputs/0/data/0").asText()).isEqualTo("setosa");
            ModelInferResponse grpc = grpcStub().modelInfer(ModelInferRequest.newBuilder().setModelName("sentiment")
                    .addInputs(HostileTensors.validTensor("sentiment")).build());
            assertThat(grpc.getOutputs(0).getContents().getBytesContents(0).toStringUtf8()).isIn("positive", "negative");
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
            gateway.close();
        }
    }

    /** One generated request, as the bytes put on the wire. */
    record Hostile(String method, String path, String contentType, String authorization, byte[] body, boolean chunked) {
        byte[] wire() {
            return request(method, path, contentType, authorization, body, chunked);
        }

        @Override
        public String toString() {
            String shown = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
            return method + " " + path + " [" + contentType + "] [" + authorization + "] chunked=" + chunked + " body("
                    + body.length + ")=" + shown;
        }
    }

    static byte[] request(String method, String path, String contentType, String authorization, byte[] body, boolean chunked) {
        return request(method, path, contentType, authorization, "", body, chunked);
    }

    /** {@code extraHeaders}: more header lines, each ending in CRLF. */
    static byte[] request(String method, String path, String contentType, String authorization, String extraHeaders,
                          byte[] body, boolean chunked) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ');
        out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(path.getBytes(StandardCharsets.UTF_8)); // raw: look-alikes travel as UTF-8 bytes
        head.setLength(0);
        head.append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if (contentType != null) {
            head.append("Content-Type: ").append(contentType).append("\r\n");
        }
        if (authorization != null) {
            head.append("Authorization: ").append(authorization).append("\r\n");
        }
        head.append(extraHeaders);
        if (chunked) {
            head.append("Transfer-Encoding: chunked\r\n\r\n");
            out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body.length > 0) {
                out.writeBytes((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.writeBytes(body);
                out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } else {
            if (body.length > 0 || method.equals("POST") || method.equals("PUT")) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    @Property(tries = TRIES, shrinking = ShrinkingMode.BOUNDED)
    void everyAnswerIsADocumentedStatusWithAJsonBody(@ForAll("requests") Hostile request) throws IOException {
        RawHttp.Response response = RawHttp.exchange(gateway.port(), request.wire(), TIMEOUT_MS);
        sent.incrementAndGet();
        statuses.computeIfAbsent(response.status(), s -> new AtomicInteger()).incrementAndGet();
        assertThat(response.timedOut()).as("no answer within %d ms to %s", TIMEOUT_MS, request).isFalse();
        assertThat(response.status()).as("%s -> %s", request, response.bodyText()).isIn(DOCUMENTED);
        if (request.method().equals("HEAD")) {
            return;
        }
        String type = String.valueOf(response.header("content-type"));
        if (response.status() == 200 && type.startsWith("text/plain")) {
            // the one non-JSON route: any path that normalises to /metrics
            assertThat(response.bodyText()).as("%s", request).contains("# HELP mlserver_");
            return;
        }
        if (response.status() == 200 && (type.startsWith("text/html") || type.startsWith("text/css")
                || type.contains("javascript") || type.startsWith("image/"))) {
            // the pages: any GET that normalises to the console (/) or the API docs (/docs/...)
            assertThat(request.method()).as("%s", request).isEqualTo("GET");
            assertThat(response.body().length).as("%s", request).isPositive();
            return;
        }
        assertThat(type).as("%s -> %d", request, response.status()).startsWith("application/json");
        JsonNode body = STRICT.readTree(response.body());
        assertThat(body).as("%s -> %d", request, response.status()).isNotNull();
        if (response.status() >= 400 && body.path("error").isTextual()) {
            // the Open Inference Protocol's own shape, {"error": "..."}: only a path that normalises into /v2 gets it
            assertThat(decoded(request.path())).as("%s -> %s", request, response.bodyText()).contains("v2");
            assertThat(body.path("error").asText()).as("%s", request).isNotBlank();
        } else if (response.status() >= 400) {
            assertThat(body.path("error").path("code").asText()).as("%s -> %s", request, response.bodyText()).isNotBlank();
            assertThat(body.path("error").path("message").asText()).isNotBlank();
        }
    }

    /** {@code path} with every well-formed {@code %XX} decoded: a path can reach /v2 only if this contains "v2". */
    static String decoded(String path) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' && i + 2 < path.length()
                    && Character.digit(path.charAt(i + 1), 16) >= 0 && Character.digit(path.charAt(i + 2), 16) >= 0) {
                out.append((char) Integer.parseInt(path.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    @Property(tries = TENSOR_TRIES, shrinking = ShrinkingMode.BOUNDED)
    void everyHostileTensorIsRefusedAsInvalid(@ForAll("restTensors") HostileTensors.Rest tensor) throws IOException {
        RawHttp.Response response = RawHttp.exchange(gateway.port(), request("POST", "/v2/models/" + tensor.model() + "/infer",
                "application/json", "Bearer " + TOKEN, tensor.body(), false), TIMEOUT_MS);
        tensorsSent.incrementAndGet();
        assertThat(response.timedOut()).as("no answer within %d ms to %s", TIMEOUT_MS, tensor).isFalse();
        assertThat(response.status()).as("%s -> %s", tensor, response.bodyText()).isEqualTo(400);
        assertThat(String.valueOf(response.header("content-type"))).startsWith("application/json");
        JsonNode error = STRICT.readTree(response.body()).path("error");
        assertThat(error.isTextual()).as("%s -> %s", tensor, response.bodyText()).isTrue();
        assertThat(error.asText()).as("%s", tensor).isNotBlank().isNotEqualTo("bad request").hasSizeLessThan(400);
    }

    @Property(tries = BINARY_TRIES, shrinking = ShrinkingMode.BOUNDED)
    void everyBinaryBodyIsAnsweredOrRefusedWithJson(@ForAll("binaryBodies") HostileTensors.Binary binary) throws IOException {
        String header = binary.headerLength() == null ? "" : "Inference-Header-Content-Length: " + binary.headerLength() + "\r\n";
        RawHttp.Response response = RawHttp.exchange(gateway.port(), request("POST", "/v2/models/" + binary.model() + "/infer",
                "application/octet-stream", "Bearer " + TOKEN, header, binary.body(), false), TIMEOUT_MS);
        tensorsSent.incrementAndGet();
        assertThat(response.timedOut()).as("no answer within %d ms to %s", TIMEOUT_MS, binary).isFalse();
        // without the header, an octet-stream body is not one the gateway reads: 415
        List<Integer> documented = binary.headerLength() == null ? List.of(200, 400, 415) : List.of(200, 400);
        assertThat(response.status()).as("%s -> %s", binary, response.bodyText()).isIn(documented);
        if (response.status() != 200) {
            assertThat(String.valueOf(response.header("content-type"))).startsWith("application/json");
            JsonNode error = STRICT.readTree(response.body()).path("error");
            assertThat(error.isTextual()).as("%s -> %s", binary, response.bodyText()).isTrue();
            assertThat(error.asText()).as("%s", binary).isNotBlank().isNotEqualTo("bad request").hasSizeLessThan(400);
        }
    }

    @Property(tries = GRPC_TRIES, shrinking = ShrinkingMode.BOUNDED)
    void everyHostileGrpcTensorIsInvalidArgument(@ForAll("grpcTensors") HostileTensors.Grpc tensor) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
                ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)), RAW_INFER,
                CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS), tensor.message()));
        grpcSent.incrementAndGet();
        assertThat(refused).as("%s was answered", tensor).isNotNull();
        assertThat(refused.getStatus().getCode()).as("%s -> %s", tensor, refused.getStatus()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(refused.getStatus().getDescription()).as("%s", tensor).isNotBlank().isNotEqualTo("internal error");
    }

    /** ModelInfer with the request as bytes, so that bytes which are not a message can be sent too. */
    static final MethodDescriptor<byte[], byte[]> RAW_INFER = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("inference.GRPCInferenceService", "ModelInfer"))
            .setRequestMarshaller(new BytesMarshaller())
            .setResponseMarshaller(new BytesMarshaller())
            .build();

    static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpcStub() {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @Provide
    Arbitrary<HostileTensors.Rest> restTensors() {
        return HostileTensors.rest();
    }

    @Provide
    Arbitrary<HostileTensors.Binary> binaryBodies() {
        return HostileTensors.binary();
    }

    @Provide
    Arbitrary<HostileTensors.Grpc> grpcTensors() {
        return HostileTensors.grpc();
    }

    @Provide
    Arbitrary<Hostile> requests() {
        return Combinators.combine(methods(), paths(), contentTypes(), authorizations(), bodies(), Arbitraries.of(false, false, false, true))
                .as(Hostile::new);
    }

    Arbitrary<String> methods() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(12, Arbitraries.just("POST")),
                net.jqwik.api.Tuple.of(4, Arbitraries.just("GET")),
                net.jqwik.api.Tuple.of(2, Arbitraries.of("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
                        "FOO", "get", "POST\t", "P\u00d6ST")));
    }

    Arbitrary<String> paths() {
        Arbitrary<String> names = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of(classifiers)),
                net.jqwik.api.Tuple.of(4, Arbitraries.of(
                        // look-alikes: Cyrillic i, dotless i, fullwidth, case, encodings, trailing junk
                        "\u0456ris", "\u0131ris", "\uff49\uff52\uff49\uff53", "IRIS", "Iris", "%69ris", "%49RIS", "%D1%96ris",
                        "iris%00", "iris%20", "iris ", "iris.", "iris;x=1", "iris~", "iris%2F..", "fixture%2fpredict",
                        "..", "%2e%2e", "%2E%2e", ".", "%2e", "%252e%252e", "%2f", "%2F..%2F", "%5c..%5c", "%", "%zz", "%u0069",
                        "%c0%af", "%ff", "%ed%a0%80", "*", "", "health", "metrics", "admin", "classifiers", "v1", "docs",
                        // the Open Inference Protocol's namespace, which answers in its own error shape
                        "v2", "%762", "V2", "v2%2f",
                        "a".repeat(300), "\u202eiris", "iris\u200b", "fixture\u0000")),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(20)
                        .map(s -> s.replace(" ", "%20").replace("?", "%3F").replace("#", "%23"))),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().all().ofMaxLength(8)
                        .map(s -> s.codePoints().allMatch(c -> c > ' ' && c != 0x7f && !(c >= 0x80 && c < 0xa0)) ? s : "x")));
        Arbitrary<String> prefixes = Arbitraries.of("/", "/", "/", "/", "//", "/./", "/../", "/a/../", "/health/../",
                "/%2e%2e/", "/v1/", "/admin/");
        Arbitrary<String> suffixes = Arbitraries.of("/predict", "/predict", "/predict", "/predict_proba", "/ready", "",
                "/", "/predict/", "/predict/extra", "/predict?x=%zz", "/predict?payload=1", "/%2e%2e/predict",
                "/predict%00", "/PREDICT", "/predict/..", "/../health/live");
        Arbitrary<String> composed = Combinators.combine(prefixes, names, suffixes).as((p, n, s) -> p + n + s);
        Arbitrary<String> fixed = Arbitraries.of("/", "/health/live", "/health/ready", "/metrics", "/classifiers",
                "/admin/plugins", "/admin/plugins/reload", "/openapi.json", "/docs", "/status", "/favicon.ico", "*",
                "http://127.0.0.1/iris/predict", "/" + "x".repeat(9000), "/health/%zz", "/%", "/\u0000");
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, composed), net.jqwik.api.Tuple.of(1, fixed));
    }

    Arbitrary<String> contentTypes() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.just("application/json")),
                net.jqwik.api.Tuple.of(3, Arbitraries.of(null, "application/json; charset=utf-8", "application/json; charset=utf-16",
                        "APPLICATION/JSON", "application/vnd.api+json", "application/jsonx", "text/plain", "text/json",
                        "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/xml",
                        "application/octet-stream", ";;;", "", "application/json;" + "a".repeat(2000), "*/*",
                        "application/json\u00ff")));
    }

    Arbitrary<String> authorizations() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(16, Arbitraries.just("Bearer " + TOKEN)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just("Bearer " + LIMITED_TOKEN)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(null, "Bearer", "Bearer ", "bearer " + TOKEN, "Basic " + TOKEN,
                        "Bearer " + TOKEN + "x", "Bearer " + TOKEN.toUpperCase(), "Bearer  " + TOKEN + " ", TOKEN,
                        "Bearer " + "A".repeat(5000), "Bearer \u00e9\u00e8", "Bearer " + TOKEN + "\u0000")));
    }

    Arbitrary<byte[]> bodies() {
        Arbitrary<String> numbers = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.doubles().map(d -> Double.toString(d))),
                net.jqwik.api.Tuple.of(3, Arbitraries.of("1e999", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "-0",
                        "0x10", "01", "1.", ".5", "+1", "1e", "--1", "3.4028236e38", "-3.4028236e38", "9223372036854775808",
                        "1" + "0".repeat(150), "1." + "1".repeat(150), "true", "null", "\"5.1\"", "[]", "{}")),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().map(Object::toString)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().map(Object::toString)));
        Arbitrary<String> rows = numbers.list().ofMaxSize(7).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> keyed = Combinators.combine(numbers, numbers, numbers, numbers,
                Arbitraries.of("sepal_length", "x", "petal_width", "", "\u0000", "sepal_length\u0000", "__proto__", "text"))
                .as((a, b, c, d, extra) -> "{\"sepal_length\":" + a + ",\"sepal_width\":" + b + ",\"petal_length\":" + c
                        + ",\"petal_width\":" + d + (extra.equals("sepal_length") ? "" : ",\"" + extra + "\":" + a) + "}");
        Arbitrary<String> fixtureInstances = numbers.map(n -> "{\"x\":" + n + "}");
        Arbitrary<String> instances = Arbitraries.oneOf(rows, keyed, fixtureInstances, json(3), texts());
        Arbitrary<String> wrapped = Arbitraries.oneOf(
                instances.map(i -> "{\"payload\":" + i + "}"),
                instances.list().ofMaxSize(70).map(l -> "{\"payload\":[" + String.join(",", l) + "]}"),
                instances.list().ofMaxSize(70).map(l -> "{\"instances\":[" + String.join(",", l) + "]}"),
                instances.map(i -> "{\"payload\":" + i + ",\"payload\":" + i + "}"),
                instances.map(i -> "{\"payload\":" + i + ",\"instances\":[" + i + "]}"),
                instances.map(i -> "{\"payload\":" + i + "} trailing"),
                instances.map(i -> "{\"payload\":" + i),
                instances.map(i -> "{'payload':" + i + "}"),
                instances.map(i -> "{\"payload\":" + i + ",}"),
                instances.map(i -> "[" + i + "]"));
        Arbitrary<String> nested = Combinators.combine(Arbitraries.integers().between(1, 5000), Arbitraries.of("[", "{\"a\":"),
                Arbitraries.of(true, false)).as((depth, open, balanced) -> {
                    String close = open.equals("[") ? "]" : "}";
                    return "{\"payload\":" + open.repeat(depth) + "1" + (balanced ? close.repeat(depth) : "") + "}";
                });
        Arbitrary<byte[]> text = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, wrapped),
                net.jqwik.api.Tuple.of(3, json(4)),
                net.jqwik.api.Tuple.of(2, nested),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("", " ", "\n", "null", "0", "\"payload\"", "{", "}", "[]", "{}",
                        "{\"payload\":}", "{\"payload\":null}", "{\"payload\":[]}", "{\"instances\":{}}", "\ufeff{\"payload\":[1,2,3,4]}",
                        "{\"payload\":[5.1,3.5,1.4,0.2]}\u0000", "/* c */{\"payload\":[1,2,3,4]}")))
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(16, text),
                net.jqwik.api.Tuple.of(2, invalidUtf8()),
                net.jqwik.api.Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(512)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("{\"payload\":[5.1,3.5,1.4,0.2]}", "{\"payload\":{\"x\":1}}")
                        .map(s -> s.getBytes(StandardCharsets.UTF_16))),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(MAX_BODY - 16, MAX_BODY + 4096)
                        .map(n -> ("{\"payload\":\"" + "a".repeat(n) + "\"}").getBytes(StandardCharsets.UTF_8))));
    }

    /** Strings that are hard for text models and for JNI: NUL, lone surrogates, emoji, long runs. */
    Arbitrary<String> texts() {
        Arbitrary<String> content = Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(40),
                Arbitraries.of("\\u0000", "\\ud800", "\\udc00x", "\\ud83d\\ude00", "\ud83d\ude00", "\u202e", "\\\"", "\\\\",
                        "\\x41", "\\u12"),
                Arbitraries.integers().between(1, 60_000).map("b"::repeat));
        return content.map(s -> "{\"text\":\"" + jsonEscapeControls(s) + "\"}");
    }

    /** Escapes control characters, which JSON forbids raw; hand-written escapes and quotes stay as they are. */
    static String jsonEscapeControls(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c < 0x20) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** Random JSON values up to {@code depth}, with odd keys and numbers. */
    Arbitrary<String> json(int depth) {
        Arbitrary<String> leaves = Arbitraries.oneOf(
                Arbitraries.of("null", "true", "false", "0", "-1", "1e308", "1e999", "\"\"", "\"x\"", "3.14"),
                Arbitraries.strings().withCharRange('a', 'z').ofMaxLength(12).map(s -> "\"" + s + "\""),
                Arbitraries.doubles().map(d -> Double.toString(d)));
        if (depth == 0) {
            return leaves;
        }
        Arbitrary<String> child = Arbitraries.lazy(() -> json(depth - 1));
        Arbitrary<String> arrays = child.list().ofMaxSize(5).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> objects = Combinators.combine(
                Arbitraries.of("payload", "instances", "x", "text", "sepal_length", "", "a\\u0000b").list().ofMaxSize(4),
                child.list().ofSize(4)).as((keys, values) -> {
                    List<String> fields = new ArrayList<>();
                    for (int i = 0; i < keys.size(); i++) {
                        fields.add("\"" + keys.get(i) + "\":" + values.get(i));
                    }
                    return "{" + String.join(",", fields) + "}";
                });
        return Arbitraries.oneOf(leaves, arrays, objects);
    }

    Arbitrary<byte[]> invalidUtf8() {
        Arbitrary<byte[]> bad = Arbitraries.of(
                new byte[] {(byte) 0xff}, new byte[] {(byte) 0xc3, 0x28}, new byte[] {(byte) 0xc0, (byte) 0xaf},
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                new byte[] {(byte) 0xe2, (byte) 0x82}, new byte[] {(byte) 0x80}, new byte[] {(byte) 0xfe, (byte) 0xff});
        return Combinators.combine(bad, Arbitraries.of("{\"payload\":{\"text\":\"%s\"}}", "{\"payload\":[%s]}", "{\"%s\":1}",
                "%s{\"payload\":[1,2,3,4]}", "{\"payload\":{\"x\":1}}%s")).as((b, template) -> {
                    String[] parts = template.split("%s", -1);
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.writeBytes(parts[0].getBytes(StandardCharsets.UTF_8));
                    out.writeBytes(b);
                    out.writeBytes(parts[1].getBytes(StandardCharsets.UTF_8));
                    return out.toByteArray();
                });
    }
}
