package dev.mlserver.gateway.v2;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One loaded classifier version as an Open Inference Protocol model: its signature and the
 * parameters every response carries (the native API's eight metadata fields, model_metrics as
 * JSON text), worked out once per version as the parts of REST and gRPC infer answers they make
 * ({@link RestCodec.Parameters}, {@link GrpcCodec#answerHead}).
 */
record Model(ClassifierInfo info, Signature signature, RestCodec.Parameters restParameters, ByteString grpcAnswerHead) {
    static Model of(ClassifierInfo info) {
        Map<String, String> parameters = new LinkedHashMap<>();
        JsonNode metadata = info.metadata();
        for (var it = metadata.fields(); it.hasNext(); ) {
            var field = it.next();
            JsonNode value = field.getValue();
            parameters.put(field.getKey(), value == null || value.isNull() ? "" : value.isTextual() ? value.textValue() : value.toString());
        }
        return new Model(info, Signature.of(info), RestCodec.Parameters.of(parameters),
                GrpcCodec.answerHead(info.name(), info.version(), parameters));
    }

    String name() {
        return info.name();
    }

    String version() {
        return info.version();
    }

    /** The platform field of model metadata. */
    String platform() {
        return "mlserver_" + signature.kind().name().toLowerCase(java.util.Locale.ROOT);
    }
}
