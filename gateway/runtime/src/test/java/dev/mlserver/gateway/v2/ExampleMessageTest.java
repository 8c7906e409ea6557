package dev.mlserver.gateway.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.http.Json;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A REST infer request written as a gRPC message, typed or raw, is read back as the same tensors. */
class ExampleMessageTest {
    @Test
    void aFloatMatrixInTypedAndInRawContentsReadsAsTheRestRequestsTensor() throws Exception {
        JsonNode request = Json.MAPPER.readTree("""
                {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}""");
        for (boolean raw : new boolean[] {false, true}) {
            ModelInferRequest message = ModelInferRequest.parseFrom(GrpcCodec.message("iris", request, raw).toByteArray());
            assertThat(message.getModelName()).isEqualTo("iris");
            assertThat(message.getRawInputContentsCount()).isEqualTo(raw ? 1 : 0);
            Tensor tensor = GrpcCodec.request(message).inputs().get(0);
            assertThat(tensor.name()).isEqualTo("input");
            assertThat(tensor.datatype()).isEqualTo(Datatype.FP32);
            assertThat(tensor.shape()).containsExactly(1, 4);
            assertThat(tensor.numbers()).containsExactly(5.1f, 3.5f, 1.4f, 0.2f);
        }
    }

    @Test
    void textsInTypedAndInRawContentsKeepTheirUtf8() throws Exception {
        JsonNode request = Json.MAPPER.readTree("""
                {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["Ça marche très bien", ""]}]}""");
        for (boolean raw : new boolean[] {false, true}) {
            Tensor tensor = GrpcCodec.request(GrpcCodec.message("sentiment", request, raw)).inputs().get(0);
            assertThat(tensor.datatype()).isEqualTo(Datatype.BYTES);
            assertThat(tensor.shape()).containsExactly(2);
            assertThat(tensor.bytes()).extracting(b -> new String(b, StandardCharsets.UTF_8))
                    .containsExactly("Ça marche très bien", "");
        }
    }
}
