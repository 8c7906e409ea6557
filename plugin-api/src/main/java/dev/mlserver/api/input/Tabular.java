package dev.mlserver.api.input;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.InvalidInputException;
import java.util.Iterator;
import java.util.List;

/** Tabular instances: an object keyed by feature name, or an array in feature order. */
public final class Tabular {
    private final List<String> featureNames;

    private Tabular(List<String> featureNames) {
        if (featureNames.isEmpty()) {
            throw new IllegalArgumentException("no feature names");
        }
        this.featureNames = List.copyOf(featureNames);
    }

    public static Tabular of(List<String> featureNames) {
        return new Tabular(featureNames);
    }

    public List<String> featureNames() {
        return featureNames;
    }

    /** Converts one instance to a row of finite floats in feature order. */
    public float[] row(JsonNode instance) {
        float[] row = new float[featureNames.size()];
        if (instance != null && instance.isArray()) {
            if (instance.size() != row.length) {
                throw new InvalidInputException(
                        "expected " + row.length + " feature values " + featureNames + ", got " + instance.size());
            }
            for (int i = 0; i < row.length; i++) {
                row[i] = number(instance.get(i), featureNames.get(i));
            }
            return row;
        }
        if (instance != null && instance.isObject()) {
            for (int i = 0; i < row.length; i++) {
                String name = featureNames.get(i);
                JsonNode value = instance.get(name);
                if (value == null) {
                    throw new InvalidInputException("missing feature '" + name + "'; expected " + featureNames);
                }
                row[i] = number(value, name);
            }
            for (Iterator<String> names = instance.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!featureNames.contains(name)) {
                    throw new InvalidInputException("unknown feature '" + clip(name) + "'; expected " + featureNames);
                }
            }
            return row;
        }
        throw new InvalidInputException(
                "a tabular instance is an object keyed by feature name or an array of " + row.length + " numbers");
    }

    /** Converts a batch, naming the instance in any error. */
    public float[][] rows(List<JsonNode> instances) {
        float[][] rows = new float[instances.size()][];
        for (int i = 0; i < rows.length; i++) {
            try {
                rows[i] = row(instances.get(i));
            } catch (InvalidInputException e) {
                throw instances.size() == 1 ? e : e.at(i);
            }
        }
        return rows;
    }

    /** A JSON Schema of one instance: either form, every feature a number. */
    public JsonNode schema() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode object = f.objectNode().put("type", "object").put("additionalProperties", false);
        ObjectNode properties = object.putObject("properties");
        featureNames.forEach(name -> properties.putObject(name).put("type", "number"));
        featureNames.forEach(object.putArray("required")::add);
        ObjectNode array = f.objectNode().put("type", "array")
                .put("minItems", featureNames.size()).put("maxItems", featureNames.size());
        array.putObject("items").put("type", "number");
        ObjectNode schema = f.objectNode();
        schema.putArray("oneOf").add(object).add(array);
        return schema;
    }

    /** An instance keyed by feature name with the given values. */
    public JsonNode example(float... values) {
        ObjectNode example = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < featureNames.size(); i++) {
            example.put(featureNames.get(i), i < values.length ? values[i] : 0f);
        }
        return example;
    }

    private static float number(JsonNode value, String name) {
        if (value == null || !value.isNumber()) {
            throw new InvalidInputException("feature '" + name + "' must be a number");
        }
        double v = value.doubleValue();
        if (!Double.isFinite(v) || Math.abs(v) > Float.MAX_VALUE) {
            throw new InvalidInputException("feature '" + name + "' is out of range");
        }
        return (float) v;
    }

    private static String clip(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

}
