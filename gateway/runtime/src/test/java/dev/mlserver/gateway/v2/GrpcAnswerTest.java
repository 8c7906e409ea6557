package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.mlserver.gateway.v2.proto.InferParameter;
import dev.mlserver.gateway.v2.proto.InferTensorContents;
import dev.mlserver.gateway.v2.proto.ModelInferResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An infer answer sent as its model version's encoded head and its own fields parses as the whole answer. */
class GrpcAnswerTest {
    private static final Map<String, String> METADATA = metadata();

    @Test
    void theTwoPartsParseAsTheAnswerBuiltInOnePiece() throws Exception {
        ModelInferResponse own = ModelInferResponse.newBuilder()
                .setId("call-7")
                .putParameters("cached", InferParameter.newBuilder().setBoolParam(true).build())
                .addOutputs(label("setosa", "virginica"))
                .addRawOutputContents(ByteString.copyFromUtf8("raw"))
                .build();
        GrpcCodec.InferAnswer answer = new GrpcCodec.InferAnswer(GrpcCodec.answerHead("iris", "1.2.0", METADATA), own);

        ModelInferResponse whole = ModelInferResponse.newBuilder()
                .setModelName("iris").setModelVersion("1.2.0").setId("call-7")
                .putAllParameters(strings(METADATA))
                .putParameters("cached", InferParameter.newBuilder().setBoolParam(true).build())
                .addOutputs(label("setosa", "virginica"))
                .addRawOutputContents(ByteString.copyFromUtf8("raw"))
                .build();
        ModelInferResponse parsed = ModelInferResponse.parseFrom(answer.encoded());
        assertThat(parsed).isEqualTo(whole);
        assertThat(parsed.getParametersCount()).isEqualTo(9);
        assertThat(answer.message()).isEqualTo(whole);
        assertThat(answer.encoded()).hasSize(whole.getSerializedSize());
    }

    @Test
    void anAnswerWithoutOwnFieldsIsTheHeadAlone() throws Exception {
        GrpcCodec.InferAnswer answer = new GrpcCodec.InferAnswer(GrpcCodec.answerHead("iris", "1.2.0", METADATA),
                ModelInferResponse.getDefaultInstance());

        ModelInferResponse parsed = ModelInferResponse.parseFrom(answer.encoded());

        assertThat(parsed.getModelName()).isEqualTo("iris");
        assertThat(parsed.getModelVersion()).isEqualTo("1.2.0");
        assertThat(parsed.getId()).isEmpty();
        assertThat(parsed.getParametersMap()).isEqualTo(strings(METADATA));
    }

    private static ModelInferResponse.InferOutputTensor label(String... labels) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        for (String label : labels) {
            contents.addBytesContents(ByteString.copyFromUtf8(label));
        }
        return ModelInferResponse.InferOutputTensor.newBuilder().setName("label").setDatatype("BYTES")
                .addShape(labels.length).setContents(contents).build();
    }

    private static Map<String, InferParameter> strings(Map<String, String> values) {
        Map<String, InferParameter> parameters = new LinkedHashMap<>();
        values.forEach((k, v) -> parameters.put(k, InferParameter.newBuilder().setStringParam(v).build()));
        return parameters;
    }

    private static Map<String, String> metadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("repository", "mlserver-examples");
        metadata.put("classifier", "iris");
        metadata.put("version", "1.2.0");
        metadata.put("git_tag", "iris-v1.2.0");
        metadata.put("git_commit", "7c50268");
        metadata.put("trained_at", "2026-11-28T10:00:00Z");
        metadata.put("api_version", "1");
        metadata.put("model_metrics", "{\"accuracy\":0.97}");
        return metadata;
    }
}
