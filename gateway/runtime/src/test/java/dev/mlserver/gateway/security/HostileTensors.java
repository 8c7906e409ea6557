package dev.mlserver.gateway.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.mlserver.gateway.v2.proto.InferTensorContents;
import dev.mlserver.gateway.v2.proto.ModelInferRequest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Open Inference Protocol requests that no model may accept: tensors whose shape and data
 * disagree, negative, huge and overflowing dimensions, elements of the wrong type, data nested
 * deeper than its shape, BYTES that are not UTF-8, unknown datatypes, missing fields and fields
 * of the wrong JSON type; over REST as bodies, over gRPC as {@code ModelInferRequest}s (typed and
 * raw contents) or bytes that are not one. Each one carries why it is hostile, for the report.
 */
final class HostileTensors {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final List<String> DATATYPES = List.of("BOOL", "INT32", "INT64", "FP32", "FP64", "BYTES");
    /** Dimensions no request may use: negative, or more elements than any body holds. */
    static final List<Long> BAD_DIMS = List.of(-1L, -2L, -4L, (long) Integer.MIN_VALUE, Long.MIN_VALUE, 1L << 31, 1L << 32,
            4_000_000_000L, 1L << 40, Long.MAX_VALUE);
    /** Shapes whose element count overflows an int or a long. */
    static final List<long[]> OVERFLOWING = List.of(new long[] {1L << 32, 1L << 32}, new long[] {Long.MAX_VALUE, 2},
            new long[] {1L << 21, 1L << 21, 1L << 21}, new long[] {3_037_000_500L, 3_037_000_500L},
            new long[] {65_536, 65_536}, new long[] {1L << 31}, new long[] {46_341, 46_341},
            new long[] {2, 2, 2, 2, 2, 2, 2, 1L << 57}, new long[] {1L << 62, 4});

    /** A REST request: the model, why it is hostile, the body. */
    record Rest(String model, String why, byte[] body) {
        @Override
        public String toString() {
            return model + " (" + why + "): " + new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8);
        }
    }

    /** A gRPC request: the model, why it is hostile, the message bytes. */
    record Grpc(String model, String why, byte[] message) {
        @Override
        public String toString() {
            try {
                return model + " (" + why + "): " + ModelInferRequest.parseFrom(message).toString().replace('\n', ' ');
            } catch (Exception e) {
                return model + " (" + why + "): " + message.length + " bytes that are not a ModelInferRequest";
            }
        }
    }

    /**
     * A REST request in the binary tensor data extension's form: the model, why it is hostile, the
     * {@code Inference-Header-Content-Length} value (null: no header) and the body.
     */
    record Binary(String model, String why, String headerLength, byte[] body) {
        @Override
        public String toString() {
            return model + " (" + why + ", header " + headerLength + "): "
                    + new String(body, 0, Math.min(body.length, 300), StandardCharsets.ISO_8859_1);
        }
    }

    private HostileTensors() {}

    // ---------------------------------------------------------------- REST, binary tensor data

    /**
     * A JSON head with one binary input, then bytes: each of the datatype, the declared size, the
     * bytes sent and the header's length is either right or wrong, so that most are refused and a
     * few are valid requests.
     */
    static Arbitrary<Binary> binary() {
        Arbitrary<String> model = Arbitraries.of("iris", "sentiment");
        Arbitrary<String> datatype = Arbitraries.of("FP32", "FP32", "FP64", "INT32", "INT64", "BOOL", "BYTES", "FP16", "UINT8");
        Arbitrary<Integer> rows = Arbitraries.of(0, 1, 1, 2, 3, 1 << 20);
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(80);
        Arbitrary<String> sizeChange = Arbitraries.of("right", "right", "plus", "minus", "negative", "huge", "text", "absent");
        Arbitrary<String> headerChange = Arbitraries.of("right", "right", "right", "plus", "minus", "negative", "huge",
                "text", "absent", "zero");
        return Combinators.combine(model, datatype, rows, bytes, sizeChange, headerChange).as((m, type, r, data, size, header) -> {
            boolean text = m.equals("sentiment");
            byte[] payload = data;
            if (text && type.equals("BYTES") && data.length > 0 && data[0] % 2 == 0) {
                // a well-formed BYTES element most of the time: a 4-byte length, then that many bytes
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(data.length - 1).array());
                out.writeBytes(Arrays.copyOfRange(data, 1, data.length));
                payload = out.toByteArray();
            }
            String declared = switch (size) {
                case "plus" -> String.valueOf(payload.length + 1 + Math.abs(r % 7));
                case "minus" -> String.valueOf(Math.max(0, payload.length - 1));
                case "negative" -> "-" + (1 + payload.length);
                case "huge" -> String.valueOf(Long.MAX_VALUE);
                case "text" -> "\"" + payload.length + "\"";
                case "absent" -> null;
                default -> String.valueOf(payload.length);
            };
            String shape = text ? "[" + r + "]" : "[" + r + ", 4]";
            String json = "{\"inputs\": [{\"name\": \"" + (text ? "text" : "input") + "\", \"datatype\": \"" + type
                    + "\", \"shape\": " + shape + (declared == null ? "" : ", \"parameters\": {\"binary_data_size\": " + declared + "}")
                    + "}]}";
            byte[] head = json.getBytes(StandardCharsets.UTF_8);
            String length = switch (header) {
                case "plus" -> String.valueOf(head.length + 1 + Math.abs(r % 5));
                case "minus" -> String.valueOf(head.length - 1);
                case "negative" -> "-" + head.length;
                case "huge" -> "99999999999999999999";
                case "text" -> "length";
                case "absent" -> null;
                case "zero" -> "0";
                default -> String.valueOf(head.length);
            };
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(head);
            body.writeBytes(payload);
            return new Binary(m, type + " " + shape + ", size " + size + ", header " + header, length, body.toByteArray());
        });
    }

    // ---------------------------------------------------------------- REST

    static Arbitrary<Rest> rest() {
        return Arbitraries.oneOf(shapeAndDataDisagree(), raggedNesting(), hugeOrNegativeDimensions(), overflowingShapes(),
                wrongElementTypes(), deepNesting(), bytesNotUtf8(), unknownDatatypes(), missingFields(), wrongJsonTypes());
    }

    /** The model's one valid input tensor, for a hostile change. */
    static ObjectNode validInput(String model) {
        ObjectNode t = NODES.objectNode();
        switch (model) {
            case "iris" -> {
                t.put("name", "input").put("datatype", "FP32");
                t.putArray("shape").add(1).add(4);
                t.putArray("data").add(5.1).add(3.5).add(1.4).add(0.2);
            }
            case "sentiment" -> {
                t.put("name", "text").put("datatype", "BYTES");
                t.putArray("shape").add(1);
                t.putArray("data").add("a fine phone");
            }
            default -> {
                t.put("name", "instances").put("datatype", "BYTES");
                t.putArray("shape").add(1);
                t.putArray("data").add("{\"x\": 1}");
            }
        }
        return t;
    }

    static ObjectNode body(ObjectNode input) {
        ObjectNode body = NODES.objectNode();
        body.putArray("inputs").add(input);
        return body;
    }

    static Arbitrary<String> models() {
        return Arbitraries.of("iris", "sentiment", "fixture");
    }

    private static Rest rest(String model, String why, JsonNode body) {
        return new Rest(model, why, body.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static JsonNode element(String datatype, int i) {
        return switch (datatype) {
            case "BOOL" -> NODES.booleanNode(i % 2 == 0);
            case "INT32", "INT64" -> NODES.numberNode(i);
            case "BYTES" -> NODES.textNode("e" + i);
            default -> NODES.numberNode(i + 0.5);
        };
    }

    static Arbitrary<Rest> shapeAndDataDisagree() {
        Arbitrary<long[]> shapes = Arbitraries.longs().between(0, 5).array(long[].class).ofMinSize(1).ofMaxSize(3);
        return Combinators.combine(models(), Arbitraries.of(DATATYPES), shapes, Arbitraries.integers().between(-3, 3)
                .filter(d -> d != 0)).as((model, datatype, shape, delta) -> {
                    long count = 1;
                    for (long d : shape) {
                        count *= d;
                    }
                    long given = count + delta < 0 ? count + 1 : count + delta;
                    ObjectNode t = NODES.objectNode().put("name", validInput(model).get("name").asText()).put("datatype", datatype);
                    ArrayNode s = t.putArray("shape");
                    for (long d : shape) {
                        s.add(d);
                    }
                    ArrayNode data = t.putArray("data");
                    for (int i = 0; i < given; i++) {
                        data.add(element(datatype, i));
                    }
                    return rest(model, "shape holds " + count + " elements, data " + given, body(t));
                });
    }

    /** Nested data whose lists do not have the lengths of the shape's dimensions. */
    static Arbitrary<Rest> raggedNesting() {
        return Arbitraries.integers().between(0, 6).list().ofMinSize(1).ofMaxSize(4)
                .filter(lengths -> lengths.stream().distinct().count() > 1 || lengths.get(0) != 4)
                .map(lengths -> {
                    ObjectNode t = validInput("iris");
                    t.putArray("shape").add(lengths.size()).add(4);
                    ArrayNode data = t.putArray("data");
                    int v = 0;
                    for (int length : lengths) {
                        ArrayNode row = data.addArray();
                        for (int i = 0; i < length; i++) {
                            row.add(1.0 + v++);
                        }
                    }
                    return rest("iris", "rows of " + lengths + " in a [" + lengths.size() + ", 4] shape", body(t));
                });
    }

    static Arbitrary<Rest> hugeOrNegativeDimensions() {
        Arbitrary<String> odd = Arbitraries.of("99999999999999999999", "-99999999999999999999", "1.5", "1e3", "-0.5", "1e400");
        Arbitrary<Rest> bad = Combinators.combine(models(), Arbitraries.of(BAD_DIMS), Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(1, 3)).as((model, dim, position, rank) -> {
                    ObjectNode t = validInput(model);
                    ArrayNode shape = t.putArray("shape");
                    for (int i = 0; i < rank; i++) {
                        shape.add(i == Math.min(position, rank - 1) ? dim : 1);
                    }
                    return rest(model, "dimension " + dim, body(t));
                });
        Arbitrary<Rest> unparseable = Combinators.combine(models(), odd).as((model, dim) -> {
            String body = body(validInput(model)).toString().replaceFirst("\"shape\":\\[[^\\]]*]",
                    Matcher.quoteReplacement("\"shape\":[" + dim + "]"));
            return new Rest(model, "dimension " + dim, body.getBytes(StandardCharsets.UTF_8));
        });
        return Arbitraries.oneOf(bad, unparseable);
    }

    static Arbitrary<Rest> overflowingShapes() {
        return Combinators.combine(models(), Arbitraries.of(OVERFLOWING)).as((model, dims) -> {
            ObjectNode t = validInput(model);
            ArrayNode shape = t.putArray("shape");
            for (long d : dims) {
                shape.add(d);
            }
            return rest(model, "overflowing shape", body(t));
        });
    }

    /** An element no value of the datatype can be. */
    static Arbitrary<Rest> wrongElementTypes() {
        Arbitrary<String[]> cases = Arbitraries.of(
                new String[] {"FP32", "\"1.5\""}, new String[] {"FP32", "true"}, new String[] {"FP32", "null"},
                new String[] {"FP32", "{}"}, new String[] {"FP32", "1e39"}, new String[] {"FP32", "-3.5e38"},
                new String[] {"FP32", "1e400"}, new String[] {"FP64", "\"NaN\""}, new String[] {"FP64", "false"},
                new String[] {"FP64", "1e400"}, new String[] {"FP64", "{\"a\": 1}"}, new String[] {"INT32", "1.5"},
                new String[] {"INT32", "2147483648"}, new String[] {"INT32", "-2147483649"}, new String[] {"INT32", "\"7\""},
                new String[] {"INT32", "1e2"}, new String[] {"INT64", "9223372036854775808"}, new String[] {"INT64", "0.1"},
                new String[] {"INT64", "true"}, new String[] {"BOOL", "0"}, new String[] {"BOOL", "1"},
                new String[] {"BOOL", "\"true\""}, new String[] {"BOOL", "null"}, new String[] {"BYTES", "1"},
                new String[] {"BYTES", "true"}, new String[] {"BYTES", "null"}, new String[] {"BYTES", "{}"},
                new String[] {"BYTES", "1.5"});
        return Combinators.combine(models(), cases, Arbitraries.integers().between(0, 3)).as((model, c, position) -> {
            StringBuilder data = new StringBuilder("[");
            for (int i = 0; i < 4; i++) {
                data.append(i == 0 ? "" : ",").append(i == position ? c[1] : element(c[0], i).toString());
            }
            String name = validInput(model).get("name").asText();
            String body = "{\"inputs\":[{\"name\":\"" + name + "\",\"datatype\":\"" + c[0] + "\",\"shape\":[4],\"data\":"
                    + data + "]}]}";
            return new Rest(model, c[1] + " as " + c[0], body.getBytes(StandardCharsets.UTF_8));
        });
    }

    /** Data nested deeper than the shape; past 64 levels the parser's own limit answers. */
    static Arbitrary<Rest> deepNesting() {
        return Combinators.combine(models(), Arbitraries.integers().between(2, 400)).as((model, depth) -> {
            ObjectNode t = validInput(model);
            String leaf = t.get("data").get(0).toString();
            String body = body(t).toString().replaceFirst("\"data\":\\[.*]}]}$",
                    Matcher.quoteReplacement("\"data\":" + "[".repeat(depth) + leaf + "]".repeat(depth) + "}]}"));
            return new Rest(model, "data nested " + depth + " deep", body.getBytes(StandardCharsets.UTF_8));
        });
    }

    /** Invalid UTF-8 in a BYTES element: raw in the body, or as an escaped lone surrogate. */
    static Arbitrary<Rest> bytesNotUtf8() {
        Arbitrary<byte[]> raw = Arbitraries.of(new byte[] {(byte) 0xff}, new byte[] {(byte) 0xc3, 0x28},
                new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                new byte[] {(byte) 0xe2, (byte) 0x82}, new byte[] {(byte) 0x80}, new byte[] {(byte) 0xfe, (byte) 0xff},
                new byte[] {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80});
        Arbitrary<Rest> rawBytes = Combinators.combine(Arbitraries.of("sentiment", "fixture"), raw).as((model, bad) -> {
            String[] parts = body(validInput(model)).toString().split("\"data\":\\[\"", 2);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes((parts[0] + "\"data\":[\"ok ").getBytes(StandardCharsets.UTF_8));
            out.writeBytes(bad);
            out.writeBytes((" " + parts[1]).getBytes(StandardCharsets.UTF_8));
            return new Rest(model, "raw bytes " + ByteString.copyFrom(bad), out.toByteArray());
        });
        Arbitrary<Rest> surrogates = Combinators.combine(Arbitraries.of("sentiment", "fixture"),
                Arbitraries.of("\\ud800", "\\udfff", "x\\ud83d", "\\ude00x", "\\udbff\\udbff")).as((model, escape) -> {
                    String body = "{\"inputs\":[{\"name\":\"" + validInput(model).get("name").asText()
                            + "\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + escape + "\"]}]}";
                    return new Rest(model, "escaped " + escape, body.getBytes(StandardCharsets.UTF_8));
                });
        return Arbitraries.oneOf(rawBytes, surrogates);
    }

    static Arbitrary<Rest> unknownDatatypes() {
        Arbitrary<String> names = Arbitraries.oneOf(
                Arbitraries.of("FP16", "BF16", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "fp32", "Fp32", "STRING",
                        "TYPE_FP32", " FP32", "FP32 ", "", "FP32\u0000", "BYTES\n", "\u0130NT32", "FP３２"),
                Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(1).ofMaxLength(8).filter(s -> !DATATYPES.contains(s)));
        return Combinators.combine(models(), names).as((model, datatype) -> {
            ObjectNode t = validInput(model).put("datatype", datatype);
            return rest(model, "datatype " + datatype, body(t));
        });
    }

    static Arbitrary<Rest> missingFields() {
        return Combinators.combine(models(), Arbitraries.of("name", "datatype", "shape", "data", "inputs", "all")).as((model, field) -> {
            ObjectNode t = validInput(model);
            ObjectNode body = body(t);
            switch (field) {
                case "inputs" -> body.remove("inputs");
                case "all" -> body.putArray("inputs");
                default -> t.remove(field);
            }
            return rest(model, "no " + field, body);
        });
    }

    static Arbitrary<Rest> wrongJsonTypes() {
        Arbitrary<String[]> cases = Arbitraries.of(
                new String[] {"name", "1"}, new String[] {"name", "null"}, new String[] {"name", "[]"},
                new String[] {"name", "{}"}, new String[] {"name", "true"}, new String[] {"datatype", "1"},
                new String[] {"datatype", "null"}, new String[] {"datatype", "[\"FP32\"]"}, new String[] {"datatype", "{}"},
                new String[] {"shape", "\"1,4\""}, new String[] {"shape", "4"}, new String[] {"shape", "{}"},
                new String[] {"shape", "null"}, new String[] {"shape", "[\"1\",\"4\"]"}, new String[] {"shape", "[true]"},
                new String[] {"shape", "[null]"}, new String[] {"shape", "[[1],[4]]"}, new String[] {"shape", "[{}]"},
                new String[] {"data", "\"x\""}, new String[] {"data", "1"}, new String[] {"data", "{}"},
                new String[] {"data", "null"}, new String[] {"data", "true"}, new String[] {"parameters", "[]"},
                new String[] {"parameters", "\"x\""}, new String[] {"parameters", "1"});
        Arbitrary<Rest> inTensor = Combinators.combine(models(), cases).as((model, c) -> {
            ObjectNode t = validInput(model);
            t.set(c[0], parse(c[1]));
            return rest(model, c[0] + " as " + c[1], body(t));
        });
        Arbitrary<String[]> top = Arbitraries.of(
                new String[] {"inputs", "{}"}, new String[] {"inputs", "\"x\""}, new String[] {"inputs", "1"},
                new String[] {"inputs", "null"}, new String[] {"inputs", "[1]"}, new String[] {"inputs", "[[]]"},
                new String[] {"inputs", "[null]"}, new String[] {"outputs", "\"label\""}, new String[] {"outputs", "{}"},
                new String[] {"outputs", "[1]"}, new String[] {"outputs", "[{\"name\": 1}]"}, new String[] {"outputs", "[{}]"},
                new String[] {"outputs", "[{\"name\": \"nope\"}]"}, new String[] {"outputs", "[{\"name\": \"label\", \"parameters\": []}]"},
                new String[] {"parameters", "[]"}, new String[] {"parameters", "2"}, new String[] {"id", "1"},
                new String[] {"id", "[]"}, new String[] {"id", "{}"}, new String[] {"id", "true"});
        Arbitrary<Rest> inBody = Combinators.combine(models(), top).as((model, c) -> {
            ObjectNode body = body(validInput(model));
            body.set(c[0], parse(c[1]));
            return rest(model, c[0] + " as " + c[1], body);
        });
        Arbitrary<Rest> wholeBody = Combinators.combine(models(), Arbitraries.of("[]", "\"x\"", "1", "null", "true", "",
                "{", "{\"inputs\": [", "{\"inputs\": []} []")).as((model, b) -> new Rest(model, "body " + b,
                b.getBytes(StandardCharsets.UTF_8)));
        return Arbitraries.oneOf(inTensor, inBody, wholeBody);
    }

    private static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    // ---------------------------------------------------------------- gRPC

    static Arbitrary<Grpc> grpc() {
        return Arbitraries.oneOf(grpcCountDisagrees(), grpcBadDimensions(), grpcWrongContents(), grpcUnknownDatatype(),
                grpcRawWrongSize(), grpcRawBytesBroken(), grpcNotFinite(), grpcMissing(), grpcNotAMessage());
    }

    static ModelInferRequest.InferInputTensor.Builder validTensor(String model) {
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder();
        switch (model) {
            case "iris" -> t.setName("input").setDatatype("FP32").addShape(1).addShape(4)
                    .setContents(InferTensorContents.newBuilder().addFp32Contents(5.1f).addFp32Contents(3.5f)
                            .addFp32Contents(1.4f).addFp32Contents(0.2f));
            case "sentiment" -> t.setName("text").setDatatype("BYTES").addShape(1)
                    .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("a fine phone")));
            default -> t.setName("instances").setDatatype("BYTES").addShape(1)
                    .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("{\"x\": 1}")));
        }
        return t;
    }

    private static Grpc grpc(String model, String why, ModelInferRequest.InferInputTensor.Builder tensor) {
        return grpc(model, why, ModelInferRequest.newBuilder().setModelName(model).addInputs(tensor));
    }

    private static Grpc grpc(String model, String why, ModelInferRequest.Builder request) {
        return new Grpc(model, why, request.build().toByteArray());
    }

    static Arbitrary<Grpc> grpcCountDisagrees() {
        return Combinators.combine(models(), Arbitraries.integers().between(0, 9).filter(n -> n != 1)).as((model, n) -> {
            ModelInferRequest.InferInputTensor.Builder t = validTensor(model);
            InferTensorContents.Builder c = InferTensorContents.newBuilder();
            for (int i = 0; i < n * (model.equals("iris") ? 4 : 1); i++) {
                if (model.equals("iris")) {
                    c.addFp32Contents(i);
                } else {
                    c.addBytesContents(ByteString.copyFromUtf8("t" + i));
                }
            }
            return grpc(model, "contents for " + n + " rows in a 1-row shape", t.setContents(c));
        });
    }

    static Arbitrary<Grpc> grpcBadDimensions() {
        Arbitrary<long[]> shapes = Arbitraries.oneOf(Arbitraries.of(OVERFLOWING),
                Arbitraries.of(BAD_DIMS).map(d -> new long[] {d}), Arbitraries.of(BAD_DIMS).map(d -> new long[] {1, d}),
                Arbitraries.just(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1}));
        return Combinators.combine(models(), shapes, Arbitraries.of(false, true)).as((model, shape, raw) -> {
            ModelInferRequest.InferInputTensor.Builder t = validTensor(model).clearShape();
            for (long d : shape) {
                t.addShape(d);
            }
            ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model);
            if (raw) {
                t.clearContents();
                request.addRawInputContents(ByteString.copyFrom(new byte[16]));
            }
            return grpc(model, (raw ? "raw, " : "") + "shape " + java.util.Arrays.toString(shape), request.addInputs(t));
        });
    }

    static Arbitrary<Grpc> grpcWrongContents() {
        return Combinators.combine(models(), Arbitraries.of("int", "int64", "uint", "bool", "fp64", "bytes", "fp32", "two"))
                .as((model, field) -> {
                    ModelInferRequest.InferInputTensor.Builder t = validTensor(model);
                    InferTensorContents.Builder c = InferTensorContents.newBuilder();
                    boolean iris = model.equals("iris");
                    int n = iris ? 4 : 1;
                    for (int i = 0; i < n; i++) {
                        switch (field) {
                            case "int" -> c.addIntContents(i);
                            case "int64" -> c.addInt64Contents(i);
                            case "uint" -> c.addUintContents(i);
                            case "bool" -> c.addBoolContents(true);
                            case "fp64" -> c.addFp64Contents(i);
                            case "bytes" -> c.addBytesContents(ByteString.copyFromUtf8("x"));
                            case "fp32" -> c.addFp32Contents(i);
                            default -> c.addFp32Contents(i).addBytesContents(ByteString.copyFromUtf8("x"));
                        }
                    }
                    boolean own = (iris && field.equals("fp32")) || (!iris && field.equals("bytes"));
                    if (own) {
                        t.setDatatype(iris ? "BYTES" : "FP32"); // the contents match, the datatype does not
                    }
                    return grpc(model, field + " contents for " + t.getDatatype(), t.setContents(c));
                });
    }

    static Arbitrary<Grpc> grpcUnknownDatatype() {
        return Combinators.combine(models(), Arbitraries.of("FP16", "BF16", "UINT8", "fp32", "", "STRING", "TYPE_FP32", "BYTES "))
                .as((model, datatype) -> grpc(model, "datatype '" + datatype + "'", validTensor(model).setDatatype(datatype)));
    }

    /** Raw contents whose byte count does not hold the shape's elements, or more raw contents than inputs. */
    static Arbitrary<Grpc> grpcRawWrongSize() {
        return Combinators.combine(Arbitraries.of("FP32", "FP64", "INT32", "INT64", "BOOL"), Arbitraries.integers().between(0, 40),
                Arbitraries.of(false, true)).as((datatype, size, extra) -> {
                    int width = switch (datatype) {
                        case "BOOL" -> 1;
                        case "FP64", "INT64" -> 8;
                        default -> 4;
                    };
                    int bytes = size == 4 * width ? size + 1 : size;
                    ModelInferRequest.InferInputTensor.Builder t = validTensor("iris").setDatatype(datatype).clearContents();
                    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("iris").addInputs(t)
                            .addRawInputContents(ByteString.copyFrom(new byte[extra ? 4 * width : bytes]));
                    if (extra) {
                        request.addRawInputContents(ByteString.copyFrom(new byte[bytes]));
                    }
                    return grpc("iris", extra ? "two raw contents for one input" : bytes + " raw bytes for 4 " + datatype, request);
                });
    }

    /** Raw BYTES elements: lengths that lie, truncated prefixes, and elements that are not UTF-8. */
    static Arbitrary<Grpc> grpcRawBytesBroken() {
        Arbitrary<byte[]> raw = Arbitraries.of(
                lengthPrefixed(-1, new byte[0]), lengthPrefixed(Integer.MIN_VALUE, new byte[0]),
                lengthPrefixed(100, "short".getBytes(StandardCharsets.UTF_8)), new byte[] {5, 0, 0},
                lengthPrefixed(2, new byte[] {(byte) 0xc0, (byte) 0xaf}), lengthPrefixed(1, new byte[] {(byte) 0xff}),
                lengthPrefixed(3, new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}),
                lengthPrefixed(2, new byte[] {(byte) 0xc3, 0x28}),
                concat(lengthPrefixed(1, new byte[] {'a'}), lengthPrefixed(1, new byte[] {'b'})));
        return Combinators.combine(Arbitraries.of("sentiment", "fixture"), raw).as((model, contents) -> {
            ModelInferRequest.InferInputTensor.Builder t = validTensor(model).clearContents();
            return grpc(model, "raw BYTES " + ByteString.copyFrom(contents), ModelInferRequest.newBuilder().setModelName(model)
                    .addInputs(t).addRawInputContents(ByteString.copyFrom(contents)));
        });
    }

    static Arbitrary<Grpc> grpcNotFinite() {
        return Arbitraries.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY).map(v -> grpc("iris", v + " in FP32",
                validTensor("iris").setContents(InferTensorContents.newBuilder().addFp32Contents(v).addFp32Contents(1)
                        .addFp32Contents(1).addFp32Contents(1))));
    }

    static Arbitrary<Grpc> grpcMissing() {
        return Combinators.combine(models(), Arbitraries.of("inputs", "shape", "datatype", "contents", "output")).as((model, what) -> {
            ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model);
            switch (what) {
                case "inputs" -> { }
                case "shape" -> request.addInputs(validTensor(model).clearShape());
                case "datatype" -> request.addInputs(validTensor(model).clearDatatype());
                case "contents" -> request.addInputs(validTensor(model).clearContents());
                default -> request.addInputs(validTensor(model)).addOutputs(
                        ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("no-such-output"));
            }
            return grpc(model, "missing " + what, request);
        });
    }

    /** Bytes that do not parse as a ModelInferRequest: a valid one followed by a field of wire type 7, or cut short. */
    static Arbitrary<Grpc> grpcNotAMessage() {
        return Combinators.combine(models(), Arbitraries.of(true, false)).as((model, cut) -> {
            byte[] valid = ModelInferRequest.newBuilder().setModelName(model).addInputs(validTensor(model)).build().toByteArray();
            byte[] bytes = cut ? java.util.Arrays.copyOf(valid, valid.length - 3) : concat(valid, new byte[] {0x0f, 1});
            return new Grpc(model, cut ? "message cut short" : "invalid wire type", bytes);
        });
    }

    private static byte[] lengthPrefixed(int length, byte[] bytes) {
        return ByteBuffer.allocate(4 + bytes.length).order(ByteOrder.LITTLE_ENDIAN).putInt(length).put(bytes).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
