package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.mlserver.gateway.http.Json;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A classifier seen as an Open Inference Protocol model, derived from its input schema: what
 * tensors it takes and gives, and how a request's tensors become the instances its
 * {@code predict} takes.
 *
 * <ul>
 *   <li>tabular: one FP32 {@code [-1, F]} tensor (any name, advertised as {@code input}), or one
 *       {@code [-1]} tensor per feature, named by the feature;
 *   <li>text: one BYTES {@code [-1]} tensor of UTF-8 texts (advertised as {@code text});
 *   <li>any other schema: one BYTES {@code [-1]} tensor (advertised as {@code instances}), each
 *       element one instance as JSON text.
 * </ul>
 * Outputs: {@code label} BYTES {@code [-1]} and {@code probabilities} FP32 {@code [-1, C]} in the
 * classifier's label order.
 */
final class Signature {
    static final String LABEL = "label";
    static final String PROBABILITIES = "probabilities";
    static final String MATRIX = "input";
    static final String TEXT = "text";
    static final String JSON_INSTANCES = "instances";

    enum Kind { TABULAR, TEXT, JSON }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Kind kind;
    private final List<String> features;
    private final Map<String, Integer> featureIndex = new HashMap<>();
    private final List<String> labels;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;

    private Signature(Kind kind, List<String> features, List<String> labels) {
        this.kind = kind;
        this.features = List.copyOf(features);
        for (int i = 0; i < features.size(); i++) {
            featureIndex.put(features.get(i), i);
        }
        this.labels = List.copyOf(labels);
        this.inputs = switch (kind) {
            case TABULAR -> List.of(new TensorSpec(MATRIX, Datatype.FP32, new long[] {-1, features.size()}));
            case TEXT -> List.of(new TensorSpec(TEXT, Datatype.BYTES, new long[] {-1}));
            case JSON -> List.of(new TensorSpec(JSON_INSTANCES, Datatype.BYTES, new long[] {-1}));
        };
        this.outputs = List.of(new TensorSpec(LABEL, Datatype.BYTES, new long[] {-1}),
                new TensorSpec(PROBABILITIES, Datatype.FP32, new long[] {-1, labels.size()}));
    }

    static Signature of(ClassifierInfo info) {
        JsonNode schema = info.inputSchema();
        List<String> features = tabularFeatures(schema);
        if (!features.isEmpty()) {
            return new Signature(Kind.TABULAR, features, info.labels());
        }
        if (isText(schema)) {
            return new Signature(Kind.TEXT, List.of(), info.labels());
        }
        return new Signature(Kind.JSON, List.of(), info.labels());
    }

    /** The feature names of a tabular schema ({@code oneOf} an object of numbers and an array); empty otherwise. */
    private static List<String> tabularFeatures(JsonNode schema) {
        JsonNode oneOf = schema.path("oneOf");
        for (JsonNode option : oneOf) {
            JsonNode properties = option.path("properties");
            if ("object".equals(option.path("type").asText()) && properties.isObject() && !properties.isEmpty()) {
                List<String> names = new ArrayList<>();
                for (var it = properties.fields(); it.hasNext(); ) {
                    var field = it.next();
                    if (!"number".equals(field.getValue().path("type").asText())) {
                        return List.of();
                    }
                    names.add(field.getKey());
                }
                return names;
            }
        }
        return List.of();
    }

    private static boolean isText(JsonNode schema) {
        JsonNode properties = schema.path("properties");
        return properties.isObject() && properties.size() == 1 && "string".equals(properties.path("text").path("type").asText());
    }

    Kind kind() {
        return kind;
    }

    /**
     * A REST infer request for one instance, {@code example} (as the native API takes it), in this
     * model's tensor form: what a client of the protocol sends for it.
     */
    JsonNode request(JsonNode example) {
        TensorSpec spec = inputs.get(0);
        ObjectNode input = NODES.objectNode().put("name", spec.name()).put("datatype", spec.datatype().name());
        ArrayNode shape = input.putArray("shape").add(1);
        for (int i = 1; i < spec.shape().length; i++) {
            shape.add(spec.shape()[i]);
        }
        ArrayNode data = input.putArray("data");
        switch (kind) {
            case TABULAR -> {
                for (int i = 0; i < features.size(); i++) {
                    data.add(example.isArray() ? example.path(i) : example.path(features.get(i)));
                }
            }
            case TEXT -> data.add(example.isTextual() ? example.asText() : example.path(TEXT).asText());
            case JSON -> data.add(example.toString());
        }
        ObjectNode request = NODES.objectNode();
        request.putArray("inputs").add(input);
        return request;
    }

    List<TensorSpec> inputs() {
        return inputs;
    }

    List<TensorSpec> outputs() {
        return outputs;
    }

    List<String> labels() {
        return labels;
    }

    /** Whether {@code name} is one of the outputs. */
    boolean hasOutput(String name) {
        return LABEL.equals(name) || PROBABILITIES.equals(name);
    }

    /** The instances a request's input tensors stand for, as the classifier's {@code predict} takes them. */
    List<JsonNode> instances(List<Tensor> tensors, int maxBatch) {
        if (tensors.isEmpty()) {
            throw Inference.invalid("the request has no inputs; this model takes " + describeInputs());
        }
        List<JsonNode> instances = switch (kind) {
            case TABULAR -> tabular(tensors, maxBatch);
            case TEXT -> texts(single(tensors), maxBatch);
            case JSON -> json(single(tensors), maxBatch);
        };
        if (instances.isEmpty()) {
            throw Inference.invalid("no instances to predict: the batch dimension is 0");
        }
        return instances;
    }

    private Tensor single(List<Tensor> tensors) {
        if (tensors.size() != 1) {
            throw Inference.invalid(tensors.size() + " inputs given; this model takes " + describeInputs());
        }
        return tensors.get(0);
    }

    private String describeInputs() {
        return switch (kind) {
            case TABULAR -> "one FP32 tensor '" + MATRIX + "' of shape [-1, " + features.size()
                    + "], or one [-1] tensor per feature: " + features;
            case TEXT -> "one BYTES tensor '" + TEXT + "' of shape [-1]";
            case JSON -> "one BYTES tensor '" + JSON_INSTANCES + "' of shape [-1], each element an instance as JSON";
        };
    }

    private List<JsonNode> tabular(List<Tensor> tensors, int maxBatch) {
        if (tensors.size() == 1 && !featureIndex.containsKey(tensors.get(0).name())) {
            return matrix(tensors.get(0), maxBatch);
        }
        Tensor[] byFeature = new Tensor[features.size()];
        for (Tensor t : tensors) {
            Integer i = featureIndex.get(t.name());
            if (i == null) {
                throw Inference.invalid("unknown input '" + clip(t.name()) + "'; this model takes " + describeInputs());
            }
            if (byFeature[i] != null) {
                throw Inference.invalid("input '" + t.name() + "' is given twice");
            }
            numeric(t);
            boolean column = t.shape().length == 1 || (t.shape().length == 2 && t.shape()[1] == 1);
            if (!column) {
                throw Inference.invalid("input '" + t.name() + "' must have shape [-1] or [-1, 1], got " + Shapes.text(t.shape()));
            }
            byFeature[i] = t;
        }
        int rows = -1;
        for (int i = 0; i < byFeature.length; i++) {
            if (byFeature[i] == null) {
                throw Inference.invalid("missing input '" + features.get(i) + "'; this model takes " + describeInputs());
            }
            if (rows >= 0 && byFeature[i].shape()[0] != rows) {
                throw Inference.invalid("every feature input needs the same batch size; '" + features.get(i) + "' has "
                        + byFeature[i].shape()[0] + ", others " + rows);
            }
            rows = (int) Math.min(byFeature[i].shape()[0], Integer.MAX_VALUE);
        }
        batch(rows, maxBatch);
        List<JsonNode> instances = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            ArrayNode row = NODES.arrayNode(features.size());
            for (Tensor t : byFeature) {
                row.add(t.numbers()[r]);
            }
            instances.add(row);
        }
        return instances;
    }

    private List<JsonNode> matrix(Tensor t, int maxBatch) {
        numeric(t);
        int width = features.size();
        long[] shape = t.shape();
        boolean oneRow = shape.length == 1 && shape[0] == width;
        if (!oneRow && (shape.length != 2 || shape[1] != width)) {
            throw Inference.invalid("input '" + clip(t.name()) + "' must have shape [-1, " + width + "] ("
                    + width + " features: " + features + "), got " + Shapes.text(shape));
        }
        int rows = oneRow ? 1 : (int) Math.min(shape[0], Integer.MAX_VALUE);
        batch(rows, maxBatch);
        double[] values = t.numbers();
        List<JsonNode> instances = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            ArrayNode row = NODES.arrayNode(width);
            for (int c = 0; c < width; c++) {
                row.add(values[r * width + c]);
            }
            instances.add(row);
        }
        return instances;
    }

    private static void numeric(Tensor t) {
        if (!t.datatype().numeric()) {
            throw Inference.invalid("input '" + clip(t.name()) + "' must be FP32, FP64, INT32 or INT64, got "
                    + t.datatype());
        }
    }

    private List<JsonNode> texts(Tensor t, int maxBatch) {
        List<JsonNode> instances = new ArrayList<>();
        for (String text : strings(t, maxBatch)) {
            instances.add(TextNode.valueOf(text));
        }
        return instances;
    }

    private List<JsonNode> json(Tensor t, int maxBatch) {
        List<JsonNode> instances = new ArrayList<>();
        int i = 0;
        for (String text : strings(t, maxBatch)) {
            try {
                instances.add(Json.MAPPER.readTree(text));
            } catch (JacksonException e) {
                throw Inference.invalid("element " + i + " of '" + clip(t.name()) + "' is not JSON: "
                        + e.getOriginalMessage());
            }
            i++;
        }
        return instances;
    }

    private List<String> strings(Tensor t, int maxBatch) {
        if (t.datatype() != Datatype.BYTES) {
            throw Inference.invalid("input '" + clip(t.name()) + "' must be BYTES, got " + t.datatype());
        }
        long[] shape = t.shape();
        if (!(shape.length == 1 || (shape.length == 2 && shape[1] == 1))) {
            throw Inference.invalid("input '" + clip(t.name()) + "' must have shape [-1], got " + Shapes.text(shape));
        }
        batch(t.bytes().size(), maxBatch);
        List<String> out = new ArrayList<>(t.bytes().size());
        for (int i = 0; i < t.bytes().size(); i++) {
            out.add(utf8(t.bytes().get(i), t.name(), i));
        }
        return out;
    }

    private static void batch(long rows, int maxBatch) {
        if (rows > maxBatch) {
            throw Inference.invalid(rows + " instances in one request; the limit is " + maxBatch);
        }
    }

    /** Strict UTF-8: malformed bytes are refused, not replaced. */
    static String utf8(byte[] bytes, String tensor, int index) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw Inference.invalid("element " + index + " of '" + clip(tensor) + "' is not valid UTF-8");
        }
    }
}
