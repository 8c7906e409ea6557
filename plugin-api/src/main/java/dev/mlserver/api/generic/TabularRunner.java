package dev.mlserver.api.generic;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.InvalidInputException;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Tabular;
import dev.mlserver.api.input.Text;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Probabilities;
import dev.mlserver.api.onnx.Tensors;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Feeds tabular instances to a model as its plan says, and reads its probabilities. */
final class TabularRunner implements Runner {
    private final OnnxModel model;
    private final Plan.Tabular plan;
    private final Tabular floatMatrix;
    private final Set<String> outputs;
    /** One float matrix in, float probabilities or logits out: runs through {@link OnnxModel#runFloats(String, float[][], String)}. */
    private final boolean floatsInAndOut;

    TabularRunner(OnnxModel model, Plan.Tabular plan) {
        this.model = model;
        this.plan = plan;
        Plan.Column first = plan.columns().get(0);
        boolean matrix = plan.columns().size() == 1 && first.rank() == 2 && first.type().equals("float");
        this.floatMatrix = matrix ? Tabular.of(plan.featureNames()) : null;
        this.outputs = Set.of(plan.output());
        this.floatsInAndOut = floatMatrix != null && plan.kind() != Plan.Output.ZIPMAP && floatTensor(model, plan.output());
    }

    private static boolean floatTensor(OnnxModel model, String output) {
        try {
            return model.session().getOutputInfo().get(output).getInfo() instanceof TensorInfo t && t.type == OnnxJavaType.FLOAT;
        } catch (OrtException e) {
            throw new ClassifierException("cannot read the model's outputs: " + e.getMessage(), e);
        }
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        if (floatsInAndOut) {
            return predictions(model.runFloats(plan.columns().get(0).input(), floatMatrix.rows(instances), plan.output()),
                    instances.size());
        }
        Map<String, OnnxTensor> inputs = floatMatrix != null
                ? Map.of(plan.columns().get(0).input(), Tensors.floats(floatMatrix.rows(instances)))
                : columns(instances);
        try (OrtSession.Result result = model.session().run(inputs, outputs)) {
            OnnxValue value = result.get(0);
            return predictions(plan.kind() == Plan.Output.ZIPMAP ? zipMapRows(value) : tensorRows(value), instances.size());
        } catch (OrtException e) {
            throw OnnxModel.runFailed(e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private List<Prediction> predictions(float[][] rows, int instances) {
        if (rows.length != instances) {
            throw new ClassifierException("the model gave " + rows.length + " rows for " + instances + " instances");
        }
        if (plan.kind() == Plan.Output.LOGITS) {
            for (int i = 0; i < rows.length; i++) {
                rows[i] = Probabilities.softmax(rows[i]);
            }
        }
        return Prediction.all(plan.labels(), rows);
    }

    private Map<String, OnnxTensor> columns(List<JsonNode> instances) {
        int n = instances.size();
        Map<String, OnnxTensor> tensors = new HashMap<>();
        try {
            for (Plan.Column column : plan.columns()) {
                int width = column.features().size();
                long[] shape = column.rank() == 1 ? new long[] {n} : new long[] {n, width};
                Object values = switch (column.type()) {
                    case "float" -> new float[n * width];
                    case "double" -> new double[n * width];
                    case "int64" -> new long[n * width];
                    case "int32" -> new int[n * width];
                    default -> new String[n * width];
                };
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < width; j++) {
                        try {
                            set(values, i * width + j, column.type(), value(instances.get(i), column.features().get(j)),
                                    column.features().get(j));
                        } catch (InvalidInputException e) {
                            throw n == 1 ? e : e.at(i);
                        }
                    }
                }
                tensors.put(column.input(), tensor(values, shape));
            }
            for (int i = 0; i < n; i++) {
                checkNames(instances.get(i), n == 1 ? -1 : i);
            }
            return tensors;
        } catch (RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    private JsonNode value(JsonNode instance, String feature) {
        if (instance != null && instance.isObject()) {
            JsonNode v = instance.get(feature);
            if (v == null) {
                throw new InvalidInputException("missing feature '" + feature + "'; expected " + plan.featureNames());
            }
            return v;
        }
        if (instance != null && instance.isArray()) {
            if (instance.size() != plan.featureNames().size()) {
                throw new InvalidInputException("expected " + plan.featureNames().size() + " feature values "
                        + plan.featureNames() + ", got " + instance.size());
            }
            return instance.get(plan.featureNames().indexOf(feature));
        }
        throw new InvalidInputException("a tabular instance is an object keyed by feature name " + plan.featureNames()
                + " or an array of " + plan.featureNames().size() + " values");
    }

    private void checkNames(JsonNode instance, int index) {
        if (instance.isObject()) {
            for (Iterator<String> names = instance.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!plan.featureNames().contains(name)) {
                    InvalidInputException e = new InvalidInputException("unknown feature '"
                            + (name.length() <= 64 ? name : name.substring(0, 64) + "...") + "'; expected " + plan.featureNames());
                    throw index < 0 ? e : e.at(index);
                }
            }
        }
    }

    private static void set(Object values, int at, String type, JsonNode v, String feature) {
        switch (type) {
            case "string" -> {
                if (!v.isTextual()) {
                    throw new InvalidInputException("feature '" + feature + "' must be a string");
                }
                ((String[]) values)[at] = Text.forNative(v.textValue());
            }
            case "int64", "int32" -> {
                if (!v.isNumber() || !v.canConvertToLong() || v.doubleValue() != Math.rint(v.doubleValue())
                        || (type.equals("int32") && !v.canConvertToInt())) {
                    throw new InvalidInputException("feature '" + feature + "' must be a whole number"
                            + (type.equals("int32") ? " within 32 bits" : ""));
                }
                if (values instanceof long[] longs) {
                    longs[at] = v.longValue();
                } else {
                    ((int[]) values)[at] = v.intValue();
                }
            }
            default -> {
                if (!v.isNumber() || !Double.isFinite(v.doubleValue())
                        || (type.equals("float") && Math.abs(v.doubleValue()) > Float.MAX_VALUE)) {
                    throw new InvalidInputException("feature '" + feature + "' must be a number"
                            + (v.isNumber() ? " in range" : ""));
                }
                if (values instanceof float[] floats) {
                    floats[at] = (float) v.doubleValue();
                } else {
                    ((double[]) values)[at] = v.doubleValue();
                }
            }
        }
    }

    private static OnnxTensor tensor(Object values, long[] shape) {
        try {
            var env = OnnxModel.environment();
            if (values instanceof float[] v) {
                return OnnxTensor.createTensor(env, FloatBuffer.wrap(v), shape);
            }
            if (values instanceof double[] v) {
                return OnnxTensor.createTensor(env, DoubleBuffer.wrap(v), shape);
            }
            if (values instanceof long[] v) {
                return OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape);
            }
            if (values instanceof int[] v) {
                return OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
            }
            return Tensors.strings((String[]) values, shape);
        } catch (OrtException e) {
            throw new ClassifierException("cannot create tensor: " + e.getMessage(), e);
        }
    }

    private static float[][] tensorRows(OnnxValue value) {
        if (value instanceof OnnxTensor tensor && tensor.getInfo().type == OnnxJavaType.DOUBLE) {
            long[] shape = tensor.getInfo().getShape();
            DoubleBuffer data = tensor.getDoubleBuffer();
            int rows = shape.length <= 1 ? 1 : (int) shape[0];
            int columns = rows == 0 ? 0 : data.remaining() / rows;
            float[][] out = new float[rows][columns];
            for (float[] row : out) {
                for (int j = 0; j < columns; j++) {
                    row[j] = (float) data.get();
                }
            }
            return out;
        }
        return Tensors.floatRows(value);
    }

    private float[][] zipMapRows(OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxSequence sequence)) {
            throw new ClassifierException("output " + plan.output() + " is not a sequence of maps");
        }
        List<? extends OnnxValue> maps = sequence.getValue();
        List<String> keys = plan.classKeys();
        Object[] typedKeys = keys.stream().map(k -> plan.intKeys() ? (Object) Long.valueOf(k) : k).toArray();
        float[][] rows = new float[maps.size()][keys.size()];
        for (int i = 0; i < rows.length; i++) {
            Map<?, ?> map = ((OnnxMap) maps.get(i)).getValue();
            for (int j = 0; j < typedKeys.length; j++) {
                Object p = map.get(typedKeys[j]);
                if (!(p instanceof Number number)) {
                    throw new ClassifierException("output " + plan.output() + " has no probability for class " + keys.get(j));
                }
                rows[i][j] = number.floatValue();
            }
        }
        return rows;
    }

    @Override
    public JsonNode schema() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode object = f.objectNode().put("type", "object").put("additionalProperties", false);
        ObjectNode properties = object.putObject("properties");
        ArrayNode items = f.arrayNode();
        for (Plan.Column column : plan.columns()) {
            for (String feature : column.features()) {
                ObjectNode type = f.objectNode().put("type", jsonType(column.type()));
                properties.set(feature, type);
                items.add(type.deepCopy());
            }
        }
        plan.featureNames().forEach(object.putArray("required")::add);
        ObjectNode array = f.objectNode().put("type", "array")
                .put("minItems", plan.featureNames().size()).put("maxItems", plan.featureNames().size());
        array.set("prefixItems", items);
        ObjectNode schema = f.objectNode();
        schema.putArray("oneOf").add(object).add(array);
        return schema;
    }

    @Override
    public JsonNode example() {
        ObjectNode example = JsonNodeFactory.instance.objectNode();
        for (Plan.Column column : plan.columns()) {
            for (String feature : column.features()) {
                switch (column.type()) {
                    case "string" -> example.put(feature, "");
                    case "int64", "int32" -> example.put(feature, 0);
                    default -> example.put(feature, 0.0);
                }
            }
        }
        return example;
    }

    private static String jsonType(String onnxType) {
        return switch (onnxType) {
            case "string" -> "string";
            case "int64", "int32" -> "integer";
            default -> "number";
        };
    }

    @Override
    public void close() {
        model.close();
    }
}
