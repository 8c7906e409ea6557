package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.mlserver.api.Prediction;
import dev.mlserver.gateway.v2.proto.InferParameter;
import dev.mlserver.gateway.v2.proto.InferTensorContents;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import dev.mlserver.gateway.v2.proto.ModelInferResponse;
import dev.mlserver.gateway.v2.proto.ModelMetadataResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The gRPC form of the protocol: {@code ModelInferRequest} to {@link InferRequest}, answers to
 * {@code ModelInferResponse}. Tensors come in typed contents or in {@code raw_input_contents}
 * (little-endian, row-major; a BYTES element is a 4-byte little-endian length and its bytes);
 * a request that sent raw contents is answered in {@code raw_output_contents}.
 */
final class GrpcCodec {
    private GrpcCodec() {}

    static ModelInferRequest parse(byte[] message) {
        try {
            return ModelInferRequest.parseFrom(message);
        } catch (InvalidProtocolBufferException e) {
            throw Inference.invalid("the message is not a ModelInferRequest: " + e.getMessage());
        }
    }

    static InferRequest request(ModelInferRequest message) {
        boolean raw = message.getRawInputContentsCount() > 0;
        if (raw && message.getRawInputContentsCount() != message.getInputsCount()) {
            throw Inference.invalid(message.getInputsCount() + " inputs but " + message.getRawInputContentsCount()
                    + " raw_input_contents; give one per input, in order");
        }
        List<Tensor> tensors = new ArrayList<>(message.getInputsCount());
        for (int i = 0; i < message.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor input = message.getInputs(i);
            if (raw && input.hasContents()) {
                throw Inference.invalid("input '" + clip(input.getName())
                        + "' has contents while raw_input_contents are used");
            }
            tensors.add(raw ? rawTensor(input, message.getRawInputContents(i)) : typedTensor(input));
        }
        List<String> outputs = new ArrayList<>(message.getOutputsCount());
        message.getOutputsList().forEach(o -> outputs.add(o.getName()));
        return new InferRequest(message.getId().isEmpty() ? null : message.getId(), tensors, outputs);
    }

    private static Datatype datatype(ModelInferRequest.InferInputTensor input) {
        return Datatype.parse(input.getDatatype()).orElseThrow(() -> Inference.invalid("input '"
                + clip(input.getName()) + "': datatype '" + clip(input.getDatatype())
                + "' is not one of " + Arrays.toString(Datatype.values())));
    }

    private static long[] shape(ModelInferRequest.InferInputTensor input) {
        long[] shape = new long[input.getShapeCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = input.getShape(i);
        }
        Tensor.elementCount(input.getName(), shape);
        return shape;
    }

    private static Tensor typedTensor(ModelInferRequest.InferInputTensor input) {
        Datatype datatype = datatype(input);
        long[] shape = shape(input);
        InferTensorContents c = input.getContents();
        int filled = (c.getBoolContentsCount() > 0 ? 1 : 0) + (c.getIntContentsCount() > 0 ? 1 : 0)
                + (c.getInt64ContentsCount() > 0 ? 1 : 0) + (c.getUintContentsCount() > 0 ? 1 : 0)
                + (c.getUint64ContentsCount() > 0 ? 1 : 0) + (c.getFp32ContentsCount() > 0 ? 1 : 0)
                + (c.getFp64ContentsCount() > 0 ? 1 : 0) + (c.getBytesContentsCount() > 0 ? 1 : 0);
        int own = switch (datatype) {
            case BOOL -> c.getBoolContentsCount();
            case INT32 -> c.getIntContentsCount();
            case INT64 -> c.getInt64ContentsCount();
            case FP32 -> c.getFp32ContentsCount();
            case FP64 -> c.getFp64ContentsCount();
            case BYTES -> c.getBytesContentsCount();
        };
        if (filled > 1 || (filled == 1 && own == 0)) {
            throw Inference.invalid("input '" + clip(input.getName()) + "' is " + datatype
                    + " but its contents are in another type's field");
        }
        double[] numbers = new double[datatype == Datatype.BYTES ? 0 : own];
        List<byte[]> bytes = datatype == Datatype.BYTES ? new ArrayList<>(own) : List.of();
        for (int i = 0; i < own; i++) {
            switch (datatype) {
                case BOOL -> numbers[i] = c.getBoolContents(i) ? 1 : 0;
                case INT32 -> numbers[i] = c.getIntContents(i);
                case INT64 -> numbers[i] = c.getInt64Contents(i);
                case FP32 -> numbers[i] = Tensor.finite(c.getFp32Contents(i), input.getName(), i);
                case FP64 -> numbers[i] = Tensor.finite(c.getFp64Contents(i), input.getName(), i);
                case BYTES -> bytes.add(c.getBytesContents(i).toByteArray());
            }
        }
        return new Tensor(input.getName(), datatype, shape, numbers, bytes);
    }

    private static Tensor rawTensor(ModelInferRequest.InferInputTensor input, ByteString raw) {
        return Tensor.fromRaw(input.getName(), datatype(input), shape(input), raw.asReadOnlyByteBuffer());
    }

    static ModelMetadataResponse metadata(Model model, List<String> versions) {
        ModelMetadataResponse.Builder out = ModelMetadataResponse.newBuilder()
                .setName(model.name()).addAllVersions(versions).setPlatform(model.platform());
        model.signature().inputs().forEach(s -> out.addInputs(spec(s)));
        model.signature().outputs().forEach(s -> out.addOutputs(spec(s)));
        return out.build();
    }

    private static ModelMetadataResponse.TensorMetadata spec(TensorSpec spec) {
        ModelMetadataResponse.TensorMetadata.Builder t = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(spec.name()).setDatatype(spec.datatype().name());
        for (long d : spec.shape()) {
            t.addShape(d);
        }
        return t.build();
    }

    /**
     * The fields every infer answer of one model version shares, encoded once: its name, version
     * and metadata parameters. Encoding them took most of the time a gRPC answer spent in
     * protobuf (a map of eight parameters built, copied and UTF-8 encoded per answer).
     */
    static ByteString answerHead(String name, String version, Map<String, String> parameters) {
        ModelInferResponse.Builder head = ModelInferResponse.newBuilder().setModelName(name).setModelVersion(version);
        parameters.forEach((key, value) -> head.putParameters(key, InferParameter.newBuilder().setStringParam(value).build()));
        return head.build().toByteString();
    }

    /**
     * A {@code ModelInferResponse} in two parts: its model version's {@link #answerHead} and this
     * answer's own fields (id, outputs, the {@code cached} parameter). Two encoded messages one after
     * the other parse as one message with the fields of both (the protobuf wire format's merge
     * rule; the parts share no singular field and the parameters map takes the entries of both),
     * so on the wire the answer is the two encodings back to back.
     */
    record InferAnswer(ByteString head, ModelInferResponse own) {
        byte[] encoded() {
            byte[] bytes = new byte[head.size() + own.getSerializedSize()];
            head.copyTo(bytes, 0);
            CodedOutputStream out = CodedOutputStream.newInstance(bytes, head.size(), bytes.length - head.size());
            try {
                own.writeTo(out);
            } catch (IOException e) {
                throw new UncheckedIOException("encoding into an array of its exact size", e);
            }
            out.checkNoSpaceLeft();
            return bytes;
        }

        /** The answer as one message, for wire formats other than protobuf's. */
        ModelInferResponse message() {
            try {
                return ModelInferResponse.newBuilder().mergeFrom(head).mergeFrom(own).build();
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("the head was encoded by answerHead", e);
            }
        }
    }

    /**
     * The {@code ModelInferRequest} a client sends to {@code model} for {@code request}, a REST infer
     * request ({@code inputs} with {@code name}, {@code datatype}, {@code shape} and {@code data}):
     * each tensor in typed contents, or with {@code raw} in {@code raw_input_contents}.
     */
    static ModelInferRequest message(String model, JsonNode request, boolean raw) {
        ModelInferRequest.Builder message = ModelInferRequest.newBuilder().setModelName(model);
        for (JsonNode input : request.path("inputs")) {
            Datatype datatype = Datatype.parse(input.path("datatype").asText())
                    .orElseThrow(() -> new IllegalArgumentException("no datatype in " + input));
            ModelInferRequest.InferInputTensor.Builder tensor = message.addInputsBuilder()
                    .setName(input.path("name").asText()).setDatatype(datatype.name());
            input.path("shape").forEach(dim -> tensor.addShape(dim.asLong()));
            JsonNode data = input.path("data");
            if (raw) {
                message.addRawInputContents(ByteString.copyFrom(rawContents(datatype, data)));
            } else {
                InferTensorContents.Builder contents = tensor.getContentsBuilder();
                for (JsonNode element : data) {
                    switch (datatype) {
                        case BOOL -> contents.addBoolContents(element.asBoolean());
                        case INT32 -> contents.addIntContents(element.asInt());
                        case INT64 -> contents.addInt64Contents(element.asLong());
                        case FP32 -> contents.addFp32Contents((float) element.asDouble());
                        case FP64 -> contents.addFp64Contents(element.asDouble());
                        case BYTES -> contents.addBytesContents(ByteString.copyFromUtf8(element.asText()));
                    }
                }
            }
        }
        return message.build();
    }

    /** {@code data}'s elements as {@code raw_input_contents} hold them: little-endian, a BYTES element after its length. */
    private static byte[] rawContents(Datatype datatype, JsonNode data) {
        List<byte[]> texts = new ArrayList<>();
        int size = 0;
        for (JsonNode element : data) {
            if (datatype == Datatype.BYTES) {
                byte[] text = element.asText().getBytes(StandardCharsets.UTF_8);
                texts.add(text);
                size += 4 + text.length;
            } else {
                size += datatype.size();
            }
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        int i = 0;
        for (JsonNode element : data) {
            switch (datatype) {
                case BOOL -> out.put((byte) (element.asBoolean() ? 1 : 0));
                case INT32 -> out.putInt(element.asInt());
                case INT64 -> out.putLong(element.asLong());
                case FP32 -> out.putFloat((float) element.asDouble());
                case FP64 -> out.putDouble(element.asDouble());
                case BYTES -> out.putInt(texts.get(i).length).put(texts.get(i));
            }
            i++;
        }
        return out.array();
    }

    static InferAnswer response(InferResult result, boolean raw) {
        Model model = result.model();
        List<Prediction> predictions = result.predictions();
        ModelInferResponse.Builder out = ModelInferResponse.newBuilder();
        if (result.id() != null) {
            out.setId(result.id());
        }
        if (result.cached()) {
            out.putParameters("cached", InferParameter.newBuilder().setBoolParam(true).build());
        }
        int n = predictions.size();
        int classes = model.signature().labels().size();
        for (String name : result.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder tensor = ModelInferResponse.InferOutputTensor.newBuilder().setName(name);
            if (name.equals(Signature.LABEL)) {
                tensor.setDatatype("BYTES").addShape(n);
            } else {
                tensor.setDatatype("FP32").addShape(n).addShape(classes);
            }
            if (raw) {
                out.addRawOutputContents(ByteString.copyFrom(Outputs.raw(model, predictions, name)));
            } else {
                InferTensorContents.Builder c = InferTensorContents.newBuilder();
                for (Prediction p : predictions) {
                    if (name.equals(Signature.LABEL)) {
                        c.addBytesContents(ByteString.copyFromUtf8(p.label()));
                    } else {
                        for (float v : Outputs.probabilities(model, p)) {
                            c.addFp32Contents(v);
                        }
                    }
                }
                tensor.setContents(c);
            }
            out.addOutputs(tensor);
        }
        return new InferAnswer(model.grpcAnswerHead(), out.build());
    }
}
