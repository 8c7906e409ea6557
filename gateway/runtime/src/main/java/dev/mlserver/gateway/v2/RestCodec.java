package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.mlserver.api.Prediction;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.http.Json;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The REST form of the protocol: request bodies to {@link InferRequest}s, answers to JSON bytes. */
final class RestCodec {
    private static final ObjectReader TREE = Json.MAPPER.readerFor(JsonNode.class);

    private RestCodec() {}

    /** The header of the binary tensor data extension: how many bytes of the body are JSON. */
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    /**
     * A REST inference request: the protocol's request, and which of its outputs go back as binary
     * data (the binary tensor data extension: an output's {@code binary_data} parameter, else the
     * request's {@code binary_data_output}).
     */
    record Request(InferRequest request, Map<String, Boolean> binaryByOutput, boolean binaryByDefault) {
        boolean binary(String output) {
            return binaryByOutput.getOrDefault(output, binaryByDefault);
        }
    }

    /**
     * Reads a request body: JSON, or with {@code headerLength} (the {@value #HEADER_LENGTH}
     * header) that many bytes of JSON followed by the binary data of the inputs that give a
     * {@code binary_data_size}, in their order.
     */
    static Request request(Buffer body, String headerLength) {
        if (body == null || body.length() == 0) {
            throw new GatewayException(ErrorCode.INVALID_JSON, "the request body is empty; send {\"inputs\": [...]}");
        }
        byte[] bytes = body.getBytes();
        int jsonLength = bytes.length;
        ByteBuffer binary = null;
        if (headerLength != null) {
            long n;
            try {
                n = Long.parseLong(headerLength.trim());
            } catch (NumberFormatException e) {
                throw Inference.invalid(HEADER_LENGTH + " must be a whole number of bytes, got '" + clip(headerLength) + "'");
            }
            if (n < 0 || n > bytes.length) {
                throw Inference.invalid(HEADER_LENGTH + " says " + n + " bytes of JSON, but the body has " + bytes.length);
            }
            jsonLength = (int) n;
            binary = ByteBuffer.wrap(bytes, jsonLength, bytes.length - jsonLength).slice();
        }
        requireUtf8(bytes, jsonLength);
        JsonNode root;
        try {
            root = TREE.readTree(bytes, 0, jsonLength);
        } catch (StreamConstraintsException e) {
            throw new GatewayException(ErrorCode.INVALID_JSON, "the JSON body exceeds a limit: " + e.getOriginalMessage());
        } catch (JacksonException e) {
            throw new GatewayException(ErrorCode.INVALID_JSON, "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new GatewayException(ErrorCode.INVALID_JSON, "the body is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw Inference.invalid("the body must be a JSON object: {\"inputs\": [...]}");
        }
        String id = null;
        JsonNode idNode = root.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual()) {
                throw Inference.invalid("'id' must be a string");
            }
            id = idNode.textValue();
        }
        parameters(root.get("parameters"), "the request");
        boolean binaryByDefault = Boolean.TRUE.equals(flag(root.get("parameters"), "binary_data_output", "the request"));
        JsonNode inputs = root.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw Inference.invalid("'inputs' must be a non-empty list of tensors");
        }
        List<Tensor> tensors = new ArrayList<>(inputs.size());
        for (JsonNode input : inputs) {
            tensors.add(tensor(input, binary));
        }
        if (binary != null && binary.hasRemaining()) {
            throw Inference.invalid(binary.remaining() + " bytes after the JSON belong to no input: each input sent as "
                    + "binary data gives its size in its binary_data_size parameter");
        }
        Map<String, Boolean> binaryByOutput = new HashMap<>();
        List<String> outputs = new ArrayList<>();
        JsonNode requested = root.get("outputs");
        if (requested != null && !requested.isNull()) {
            if (!requested.isArray()) {
                throw Inference.invalid("'outputs' must be a list of {\"name\": ...}");
            }
            for (JsonNode output : requested) {
                JsonNode name = output.get("name");
                if (!output.isObject() || name == null || !name.isTextual()) {
                    throw Inference.invalid("each requested output is {\"name\": \"...\"}");
                }
                String where = "output '" + clip(name.textValue()) + "'";
                parameters(output.get("parameters"), where);
                Boolean asBinary = flag(output.get("parameters"), "binary_data", where);
                if (asBinary != null) {
                    binaryByOutput.put(name.textValue(), asBinary);
                }
                outputs.add(name.textValue());
            }
        }
        return new Request(new InferRequest(id, tensors, outputs), binaryByOutput, binaryByDefault);
    }

    /** A boolean parameter; null when absent. */
    private static Boolean flag(JsonNode parameters, String name, String where) {
        JsonNode value = parameters == null ? null : parameters.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isBoolean()) {
            throw Inference.invalid("parameter '" + name + "' of " + where + " must be true or false");
        }
        return value.booleanValue();
    }

    /**
     * Refuses a body that is not strict UTF-8 (the JSON parser lets overlong forms such as
     * {@code C0 AF} through, which would reach a classifier as other text). ASCII is checked
     * byte by byte; only a body with other bytes is decoded.
     */
    private static void requireUtf8(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] < 0) {
                try {
                    StandardCharsets.UTF_8.newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes, 0, length));
                } catch (CharacterCodingException e) {
                    throw new GatewayException(ErrorCode.INVALID_JSON, "the body is not valid UTF-8; JSON text is UTF-8");
                }
                return;
            }
        }
    }

    private static void parameters(JsonNode parameters, String where) {
        if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
            throw Inference.invalid("'parameters' of " + where + " must be an object");
        }
    }

    private static Tensor tensor(JsonNode input, ByteBuffer binary) {
        if (!input.isObject()) {
            throw Inference.invalid("each input is an object with name, shape, datatype and data");
        }
        JsonNode nameNode = input.get("name");
        if (nameNode == null || !nameNode.isTextual()) {
            throw Inference.invalid("an input has no 'name'");
        }
        String name = nameNode.textValue();
        JsonNode typeNode = input.get("datatype");
        if (typeNode == null || !typeNode.isTextual()) {
            throw Inference.invalid("input '" + clip(name) + "' has no 'datatype'");
        }
        Datatype datatype = Datatype.parse(typeNode.textValue()).orElseThrow(() -> Inference.invalid("input '"
                + clip(name) + "': datatype '" + clip(typeNode.textValue())
                + "' is not one of " + Arrays.toString(Datatype.values())));
        long[] shape = shape(input.get("shape"), name);
        parameters(input.get("parameters"), "input '" + clip(name) + "'");
        JsonNode size = input.path("parameters").get("binary_data_size");
        if (size != null && !size.isNull()) {
            return binaryTensor(input, name, datatype, shape, size, binary);
        }
        JsonNode data = input.get("data");
        if (data == null || !data.isArray()) {
            throw Inference.invalid("input '" + clip(name) + "' has no 'data' list");
        }
        long expected = Tensor.elementCount(name, shape);
        Elements elements = new Elements(datatype, name, (int) Math.min(expected, 1 << 16));
        elements.read(data, shape);
        return elements.tensor(shape);
    }

    /** An input whose elements follow the JSON (the binary tensor data extension): the next {@code size} bytes. */
    private static Tensor binaryTensor(JsonNode input, String name, Datatype datatype, long[] shape, JsonNode size,
                                       ByteBuffer binary) {
        if (!size.isIntegralNumber() || !size.canConvertToLong() || size.longValue() < 0) {
            throw Inference.invalid("input '" + clip(name) + "': binary_data_size must be a whole number of bytes");
        }
        if (binary == null) {
            throw Inference.invalid("input '" + clip(name) + "' gives a binary_data_size, but the request has no "
                    + HEADER_LENGTH + " header: send the JSON's length in bytes in it, and the binary data after the JSON");
        }
        if (input.has("data")) {
            throw Inference.invalid("input '" + clip(name) + "' has both 'data' and a binary_data_size; send one of them");
        }
        if (size.longValue() > binary.remaining()) {
            throw Inference.invalid("input '" + clip(name) + "': binary_data_size " + size.longValue() + " is more than the "
                    + binary.remaining() + " bytes of binary data left");
        }
        int length = (int) size.longValue();
        ByteBuffer elements = binary.slice().limit(length);
        binary.position(binary.position() + length);
        return Tensor.fromRaw(name, datatype, shape, elements);
    }

    private static long[] shape(JsonNode node, String name) {
        if (node == null || !node.isArray()) {
            throw Inference.invalid("input '" + clip(name) + "' has no 'shape' list");
        }
        if (node.size() > Tensor.MAX_RANK) {
            throw Inference.invalid("input '" + clip(name) + "': a shape has 1 to " + Tensor.MAX_RANK
                    + " dimensions, got " + node.size());
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode dim = node.get(i);
            if (!dim.isIntegralNumber() || !dim.canConvertToLong()) {
                throw Inference.invalid("input '" + clip(name) + "': shape dimensions are whole numbers");
            }
            shape[i] = dim.longValue();
        }
        Tensor.elementCount(name, shape);
        return shape;
    }

    /** The elements of one tensor's data, checked against its datatype while flattened. */
    private static final class Elements {
        private final Datatype datatype;
        private final String name;
        private double[] numbers;
        private final List<byte[]> bytes;
        private int count;

        Elements(Datatype datatype, String name, int capacity) {
            this.datatype = datatype;
            this.name = name;
            this.numbers = datatype == Datatype.BYTES ? new double[0] : new double[Math.max(capacity, 1)];
            this.bytes = datatype == Datatype.BYTES ? new ArrayList<>() : List.of();
        }

        /**
         * Row-major elements, either flat or nested exactly as the shape: every list at depth
         * {@code d} holds {@code shape[d]} items, lists above the last dimension and values in it.
         */
        void read(JsonNode data, long[] shape) {
            if (data.isEmpty() || !data.get(0).isArray()) {
                for (JsonNode element : data) {
                    if (element.isArray()) {
                        throw notAsShape(shape, "a list among its values: data is either flat or nested as the shape");
                    }
                    add(element);
                }
                return;
            }
            nested(data, shape, 0);
        }

        private void nested(JsonNode list, long[] shape, int depth) {
            if (list.size() != shape[depth]) {
                throw notAsShape(shape, list.size() + " items at dimension " + depth + " where the shape has " + shape[depth]);
            }
            boolean last = depth == shape.length - 1;
            for (JsonNode element : list) {
                if (last && element.isArray()) {
                    throw notAsShape(shape, "lists nested deeper than its " + shape.length + " dimensions");
                }
                if (!last && !element.isArray()) {
                    throw notAsShape(shape, "a value at dimension " + depth + " where a list of " + shape[depth + 1]
                            + " items belongs");
                }
                if (last) {
                    add(element);
                } else {
                    nested(element, shape, depth + 1);
                }
            }
        }

        private GatewayException notAsShape(long[] shape, String what) {
            return Inference.invalid("input '" + clip(name) + "': data nested against shape " + Shapes.text(shape)
                    + " has " + what);
        }

        private void add(JsonNode element) {
            if (datatype == Datatype.BYTES) {
                if (!element.isTextual()) {
                    throw wrongType(element);
                }
                bytes.add(utf8(element.textValue()));
                return;
            }
            double value = switch (datatype) {
                case BOOL -> {
                    if (!element.isBoolean()) {
                        throw wrongType(element);
                    }
                    yield element.booleanValue() ? 1 : 0;
                }
                case INT32 -> {
                    if (!element.isIntegralNumber() || !element.canConvertToInt()) {
                        throw wrongType(element);
                    }
                    yield element.intValue();
                }
                case INT64 -> {
                    if (!element.isIntegralNumber() || !element.canConvertToLong()) {
                        throw wrongType(element);
                    }
                    yield element.longValue();
                }
                case FP32 -> {
                    if (!element.isNumber() || !Double.isFinite(element.doubleValue())
                            || Math.abs(element.doubleValue()) > Float.MAX_VALUE) {
                        throw wrongType(element);
                    }
                    yield element.doubleValue();
                }
                default -> {
                    if (!element.isNumber() || !Double.isFinite(element.doubleValue())) {
                        throw wrongType(element);
                    }
                    yield element.doubleValue();
                }
            };
            if (count == numbers.length) {
                numbers = Arrays.copyOf(numbers, numbers.length * 2);
            }
            numbers[count++] = value;
        }

        private GatewayException wrongType(JsonNode element) {
            return Inference.invalid("input '" + clip(name) + "': element " + (count + bytes.size()) + " ("
                    + clip(element.toString()) + ") is not a " + datatype + " value");
        }

        /** A JSON string's UTF-8 bytes; a lone surrogate (escaped in the JSON) is not text. */
        private byte[] utf8(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw Inference.invalid("input '" + clip(name) + "': element " + bytes.size()
                            + " is not valid UTF-8 text (a lone surrogate)");
                }
            }
            return text.getBytes(StandardCharsets.UTF_8);
        }

        Tensor tensor(long[] shape) {
            return new Tensor(name, datatype, shape, datatype == Datatype.BYTES ? new double[0] : Arrays.copyOf(numbers, count),
                    bytes);
        }
    }

    /** {@code GET /v2/models/<name>}. */
    static Buffer metadata(Model model, List<String> versions) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", model.name());
            g.writeArrayFieldStart("versions");
            for (String v : versions) {
                g.writeString(v);
            }
            g.writeEndArray();
            g.writeStringField("platform", model.platform());
            specs(g, "inputs", model.signature().inputs());
            specs(g, "outputs", model.signature().outputs());
            g.writeEndObject();
        });
    }

    private static void specs(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec spec : specs) {
            g.writeStartObject();
            g.writeStringField("name", spec.name());
            g.writeStringField("datatype", spec.datatype().name());
            g.writeArrayFieldStart("shape");
            for (long d : spec.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /**
     * The {@code parameters} object of a model version's answers, written once per version as JSON
     * text: as it is, and with {@code "cached": true} for an answer from the prediction cache.
     */
    record Parameters(String fresh, String cached) {
        static Parameters of(Map<String, String> parameters) {
            return new Parameters(object(parameters, false), object(parameters, true));
        }

        private static String object(Map<String, String> parameters, boolean cached) {
            return write(g -> {
                g.writeStartObject();
                for (Map.Entry<String, String> p : parameters.entrySet()) {
                    g.writeStringField(p.getKey(), p.getValue());
                }
                if (cached) {
                    g.writeBooleanField("cached", true);
                }
                g.writeEndObject();
            }).toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * An inference answer: its body, and when some outputs are binary data, how many of its bytes
     * are JSON (the {@value #HEADER_LENGTH} header); -1 for a body that is all JSON.
     */
    record Answer(Buffer body, int jsonLength) {}

    /** The inference response; the outputs {@code asked} wants as binary data follow the JSON. */
    static Answer response(InferResult result, Request asked) {
        Model model = result.model();
        List<Prediction> predictions = result.predictions();
        ByteArrayBuilder binary = new ByteArrayBuilder(0);
        Buffer json = write(g -> {
            g.writeStartObject();
            g.writeStringField("model_name", model.name());
            g.writeStringField("model_version", model.version());
            if (result.id() != null) {
                g.writeStringField("id", result.id());
            }
            g.writeFieldName("parameters");
            g.writeRawValue(result.cached() ? model.restParameters().cached() : model.restParameters().fresh());
            g.writeArrayFieldStart("outputs");
            for (String output : result.outputs()) {
                boolean label = output.equals(Signature.LABEL);
                int classes = model.signature().labels().size();
                g.writeStartObject();
                g.writeStringField("name", output);
                g.writeStringField("datatype", label ? "BYTES" : "FP32");
                g.writeArrayFieldStart("shape");
                g.writeNumber(predictions.size());
                if (!label) {
                    g.writeNumber(classes);
                }
                g.writeEndArray();
                if (asked.binary(output)) {
                    byte[] elements = Outputs.raw(model, predictions, output);
                    binary.write(elements);
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", elements.length);
                    g.writeEndObject();
                } else {
                    g.writeArrayFieldStart("data");
                    for (Prediction p : predictions) {
                        if (label) {
                            g.writeString(p.label());
                        } else {
                            for (float v : Outputs.probabilities(model, p)) {
                                g.writeNumber(v);
                            }
                        }
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        if (result.outputs().stream().noneMatch(asked::binary)) {
            return new Answer(json, -1);
        }
        return new Answer(Buffer.buffer(json.length() + binary.size()).appendBuffer(json).appendBytes(binary.toByteArray()),
                json.length());
    }

    /** {@code {"error": message}}. */
    static Buffer error(String message) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    static Buffer write(Body body) {
        ByteArrayBuilder out = new ByteArrayBuilder(256);
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Buffer.buffer(out.toByteArray());
    }
}
