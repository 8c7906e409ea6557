package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import com.google.protobuf.MessageLite;
import dev.mlserver.api.InvalidInputException;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.http.AccessLog;
import dev.mlserver.gateway.http.Inflation;
import dev.mlserver.gateway.http.ProtocolGate;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.metrics.WarmupMark;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import dev.mlserver.gateway.v2.proto.ModelMetadataRequest;
import dev.mlserver.gateway.v2.proto.ModelReadyRequest;
import dev.mlserver.gateway.v2.proto.ModelReadyResponse;
import dev.mlserver.gateway.v2.proto.ServerLiveResponse;
import dev.mlserver.gateway.v2.proto.ServerMetadataResponse;
import dev.mlserver.gateway.v2.proto.ServerReadyResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.InvalidMessageException;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.common.WireFormat;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * {@code inference.GRPCInferenceService} on Vert.x gRPC: the same operations as the REST routes,
 * with the same tokens (the {@code authorization} metadata), metrics ({@code protocol="v2-grpc"})
 * and access log. Every failure becomes a gRPC status here, in {@link #status}.
 */
public final class GrpcService {
    private static final Logger LOG = LoggerFactory.getLogger(GrpcService.class);
    private static final Logger ACCESS = LoggerFactory.getLogger(AccessLog.LOGGER);
    private static final Logger WARMUP_ACCESS = LoggerFactory.getLogger(AccessLog.WARMUP_LOGGER);
    static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");
    /** The path of a {@code ModelInfer} call. */
    public static final String INFER_PATH = SERVICE.pathOf("ModelInfer");
    private static final GrpcMessageEncoder<MessageLite> MESSAGES = GrpcMessageEncoder.encoder();

    /** Answers are protobuf messages, or an infer answer in its two encoded parts ({@link GrpcCodec.InferAnswer}). */
    private static final GrpcMessageEncoder<Object> ANSWERS = new GrpcMessageEncoder<>() {
        @Override
        public GrpcMessage encode(Object answer, WireFormat format) throws CodecException {
            if (answer instanceof GrpcCodec.InferAnswer infer) {
                if (format == WireFormat.PROTOBUF) {
                    return GrpcMessage.message("identity", Buffer.buffer(infer.encoded()));
                }
                return MESSAGES.encode(infer.message(), format);
            }
            return MESSAGES.encode((MessageLite) answer, format);
        }

        @Override
        public boolean accepts(WireFormat format) {
            return MESSAGES.accepts(format);
        }
    };

    private final Inference inference;
    private final GatewayMetrics metrics;
    private final ProtocolGate auth;
    private final boolean accessLog;
    private final int maxMessageBytes;

    private GrpcService(Inference inference, GatewayMetrics metrics, ProtocolGate auth, boolean accessLog,
                        int maxMessageBytes) {
        this.inference = inference;
        this.metrics = metrics;
        this.auth = auth;
        this.accessLog = accessLog;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** A gRPC server (an HTTP/2 request handler) that serves the protocol's six calls. */
    public static GrpcServer create(Vertx vertx, Inference inference, GatewayConfig config, GatewayMetrics metrics) {
        GrpcService service = new GrpcService(inference, metrics,
                ProtocolGate.create(config, metrics.registry()), config.logging().accessLog(), config.server().maxBodyBytes());
        GrpcServer server = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(service.maxMessageBytes));
        service.unary(server, "ServerLive", req -> Future.succeededFuture(ServerLiveResponse.newBuilder().setLive(true).build()));
        service.unary(server, "ServerReady", req -> Future.succeededFuture(
                ServerReadyResponse.newBuilder().setReady(inference.serverReady()).build()));
        service.unary(server, "ServerMetadata", service::serverMetadata);
        service.unary(server, "ModelReady", service::modelReady);
        service.unary(server, "ModelMetadata", service::modelMetadata);
        service.unary(server, "ModelInfer", service::modelInfer);
        return server;
    }

    /**
     * One call: its request message as bytes, its caller's metadata, and whether it is the
     * gateway's own warm-up, counted and logged apart as on the REST routes.
     */
    private record Call(GrpcServerRequest<Buffer, Object> request, byte[] message, long start, boolean warmup) {
        Call(GrpcServerRequest<Buffer, Object> request, byte[] message, long start) {
            this(request, message, start, WarmupMark.carriedBy(request.headers().get(WarmupMark.HEADER)));
        }

        String authorization() {
            return request.headers().get("authorization");
        }
    }

    private void unary(GrpcServer server, String method, Function<Call, Future<?>> handler) {
        ServiceMethod<Buffer, Object> serviceMethod = ServiceMethod.server(SERVICE, method, ANSWERS, GrpcMessageDecoder.IDENTITY);
        server.callHandler(serviceMethod, request -> {
            long start = System.nanoTime();
            // answered before its end: a message over the limit, or a second message
            boolean[] answered = {false};
            request.invalidMessageHandler(invalid -> {
                answered[0] = true;
                refuse(request, start, method, invalid);
            });
            // the message as it came, to be inflated here within the limit (Vert.x's own inflating has none)
            GrpcMessage[] received = new GrpcMessage[1];
            request.messageHandler(message -> {
                if (answered[0]) {
                    return;
                }
                if (received[0] != null) {
                    answered[0] = true;
                    refuse(request, start, method, new Refusal(GrpcStatus.INTERNAL,
                            "a unary call takes one request message; this one sent more"));
                    return;
                }
                received[0] = message;
            });
            request.end().onComplete(ended -> {
                if (ended.failed() || answered[0]) {
                    return;
                }
                Call call;
                try {
                    call = new Call(request, message(received[0]), start);
                } catch (Refusal refusal) {
                    refuse(request, start, method, refusal);
                    return;
                }
                Future<?> answer;
                try {
                    answer = handler.apply(call);
                } catch (RuntimeException e) {
                    answer = Future.failedFuture(e);
                }
                answer.onComplete(result -> {
                    if (result.succeeded()) {
                        request.response().send(result.result());
                        log(call, method, GrpcStatus.OK);
                    } else {
                        fail(call, method, result.cause());
                    }
                });
            });
        });
    }

    /**
     * A unary call's one message, inflated when it came compressed ({@code grpc-encoding} gzip or
     * deflate), to at most {@code server.max_body_bytes}: what arrives compressed is bounded by
     * the gRPC layer, what it inflates to only here.
     */
    private byte[] message(GrpcMessage message) throws Refusal {
        if (message == null) {
            throw new Refusal(GrpcStatus.INVALID_ARGUMENT, "the call ended without a request message");
        }
        String encoding = message.encoding();
        byte[] bytes = message.payload().getBytes();
        if (!Inflation.encoded(encoding)) {
            return bytes;
        }
        try {
            return Inflation.inflate(encoding, bytes, maxMessageBytes);
        } catch (Inflation.Unsupported e) {
            throw new Refusal(GrpcStatus.UNIMPLEMENTED, "grpc-encoding " + clip(encoding) + " is not supported; send "
                    + String.join(", ", Inflation.CODINGS) + " or identity");
        } catch (Inflation.TooLarge e) {
            throw new Refusal(GrpcStatus.RESOURCE_EXHAUSTED, "the message inflates to more than server.max_body_bytes ("
                    + maxMessageBytes + " bytes)");
        } catch (Inflation.Failure e) {
            throw new Refusal(GrpcStatus.INTERNAL, "the message " + e.getMessage());
        }
    }

    private void refuse(GrpcServerRequest<Buffer, Object> request, long start, String method, Refusal refusal) {
        request.response().status(refusal.status).statusMessage(refusal.getMessage()).end();
        log(new Call(request, new byte[0], start), method, refusal.status);
    }

    /** A call answered with {@code status} before it reaches its method. */
    private static final class Refusal extends Exception {
        final GrpcStatus status;

        Refusal(GrpcStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private Future<ServerMetadataResponse> serverMetadata(Call call) {
        guard(call, null);
        return Future.succeededFuture(ServerMetadataResponse.newBuilder()
                .setName(inference.serverName()).setVersion(inference.serverVersion()).build());
    }

    private Future<Object> modelReady(Call call) {
        ModelReadyRequest message = parse(call, ModelReadyRequest.parser());
        guard(call, message.getName());
        return withModel(call, "ready", message.getName(), message.getVersion(), classifier -> Future.succeededFuture(
                ModelReadyResponse.newBuilder().setReady(!inference.draining()).build()));
    }

    private Future<Object> modelMetadata(Call call) {
        ModelMetadataRequest message = parse(call, ModelMetadataRequest.parser());
        guard(call, message.getName());
        return withModel(call, "metadata", message.getName(), message.getVersion(), classifier -> Future.succeededFuture(
                GrpcCodec.metadata(inference.model(classifier), inference.versions(classifier))));
    }

    private Future<Object> modelInfer(Call call) {
        ModelInferRequest message = GrpcCodec.parse(call.message());
        guard(call, message.getModelName());
        boolean raw = message.getRawInputContentsCount() > 0;
        return withModel(call, "infer", message.getModelName(), message.getModelVersion(), classifier ->
                inference.infer(classifier, GrpcCodec.request(message)).map(result -> GrpcCodec.response(result, raw)));
    }

    /**
     * Runs {@code body} on the model, entered for the call: the version stays open until the answer
     * is sent, then the call is counted and logged and the version let go.
     */
    private <T> Future<Object> withModel(Call call, String route, String name, String version,
                                         Function<LoadedClassifier, Future<T>> body) {
        LoadedClassifier classifier = inference.enter(name, version);
        Future<T> answer;
        try {
            answer = body.apply(classifier);
        } catch (RuntimeException e) {
            answer = Future.failedFuture(e);
        }
        return answer.<Object>map(m -> m).andThen(result -> {
            int status = result.succeeded() ? 200 : code(result.cause()).status();
            long nanos = System.nanoTime() - call.start();
            try {
                if (call.warmup()) {
                    metrics.warmupRequest(classifier, GatewayMetrics.V2_GRPC, route, status, nanos);
                } else {
                    metrics.request(classifier, GatewayMetrics.V2_GRPC, route, status, nanos);
                }
            } finally {
                classifier.leave();
            }
        });
    }

    private void guard(Call call, String classifier) {
        if (auth != null) {
            Optional<GatewayException> refusal = auth.refusal(call.authorization(), classifier);
            if (refusal.isPresent()) {
                throw refusal.get();
            }
        }
    }

    private static <T> T parse(Call call, com.google.protobuf.Parser<T> parser) {
        try {
            return parser.parseFrom(call.message());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw Inference.invalid("the message does not parse: " + e.getMessage());
        }
    }

    /**
     * A message the gRPC layer would not read: one over {@code server.max_body_bytes} is answered
     * RESOURCE_EXHAUSTED with what the limit is (Vert.x's own answer has no message); one that is
     * not a gRPC frame is cancelled, as Vert.x does.
     */
    private void refuse(GrpcServerRequest<Buffer, Object> request, long start, String method, InvalidMessageException invalid) {
        if (invalid instanceof MessageSizeOverflowException tooLarge) {
            refuse(request, start, method, new Refusal(GrpcStatus.RESOURCE_EXHAUSTED, "the message is "
                    + tooLarge.messageSize() + " bytes, more than server.max_body_bytes (" + maxMessageBytes + " bytes)"));
        } else {
            request.response().cancel();
        }
    }

    private void fail(Call call, String method, Throwable failure) {
        GrpcStatus status = status(failure);
        String message = status == GrpcStatus.INTERNAL ? "internal error" : failure.getMessage();
        if (status == GrpcStatus.INTERNAL) {
            LOG.error("gRPC {}: unexpected failure", method, failure);
        }
        call.request().response().status(status).statusMessage(message == null ? status.name() : message).end();
        log(call, method, status);
    }

    private void log(Call call, String method, GrpcStatus status) {
        Logger access = call.warmup() ? WARMUP_ACCESS : ACCESS;
        if (!accessLog || !access.isInfoEnabled()) {
            return;
        }
        LoggingEventBuilder line = access.atInfo().setMessage("request")
                .addKeyValue("method", "POST")
                .addKeyValue("path", SERVICE.pathOf(method))
                .addKeyValue("protocol", GatewayMetrics.V2_GRPC)
                .addKeyValue("grpc_status", status.name())
                .addKeyValue("duration_ms", Math.round((System.nanoTime() - call.start()) / 1000.0) / 1000.0);
        line.log();
    }

    /** The one place a failure becomes a gRPC status. */
    static GrpcStatus status(Throwable failure) {
        if (failure instanceof GatewayException || failure instanceof InvalidInputException) {
            return switch (code(failure)) {
                case INVALID_JSON, INVALID_INPUT, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, URI_TOO_LONG, HEADERS_TOO_LARGE,
                        EXPECTATION_FAILED, HTTP_VERSION_NOT_SUPPORTED, INVALID_CONFIG -> GrpcStatus.INVALID_ARGUMENT;
                case UNAUTHORIZED -> GrpcStatus.UNAUTHENTICATED;
                case FORBIDDEN -> GrpcStatus.PERMISSION_DENIED;
                case UNKNOWN_CLASSIFIER, NOT_FOUND -> GrpcStatus.NOT_FOUND;
                case METHOD_NOT_ALLOWED -> GrpcStatus.UNIMPLEMENTED;
                case QUOTA_EXCEEDED -> GrpcStatus.RESOURCE_EXHAUSTED;
                case CLASSIFIER_SATURATED, CLASSIFIER_NOT_READY, DRAINING, OVERLOADED -> GrpcStatus.UNAVAILABLE;
                case PREDICTION_TIMEOUT, REQUEST_TIMEOUT -> GrpcStatus.DEADLINE_EXCEEDED;
                case INTERNAL_ERROR -> GrpcStatus.INTERNAL;
            };
        }
        return GrpcStatus.INTERNAL;
    }

    private static ErrorCode code(Throwable failure) {
        if (failure instanceof GatewayException e) {
            return e.code();
        }
        return failure instanceof InvalidInputException ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL_ERROR;
    }
}
