package dev.mlserver.api.generic;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One input or output of an ONNX model as ONNX Runtime reports it.
 *
 * @param name the input or output name
 * @param kind a tensor, a sequence of maps (skl2onnx's ZipMap) or something else
 * @param type the element type of a tensor ({@code float}, {@code int64}, {@code string},
 *     {@code float16}, ...), the value type of a map
 * @param keyType the key type of a sequence of maps ({@code string} or {@code int64}); empty otherwise
 * @param shape the tensor's dimensions, -1 where a dimension is named or unknown; empty otherwise
 */
public record Port(String name, Kind kind, String type, String keyType, List<Long> shape) {
    /** What a port carries. */
    public enum Kind { TENSOR, SEQUENCE_OF_MAPS, OTHER }

    public Port {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(keyType, "keyType");
        shape = List.copyOf(shape);
    }

    public int rank() {
        return shape.size();
    }

    /** The dimension {@code i}, or -1 when it is unknown or absent. */
    public long dimension(int i) {
        return i < shape.size() ? shape.get(i) : -1;
    }

    /** The type as the docs and messages write it: {@code float[?,4]}, {@code seq(map(string,float))}. */
    public String describe() {
        return switch (kind) {
            case TENSOR -> type + shape.stream().map(d -> d < 0 ? "?" : Long.toString(d))
                    .collect(Collectors.joining(",", "[", "]"));
            case SEQUENCE_OF_MAPS -> "seq(map(" + keyType + "," + type + "))";
            case OTHER -> type;
        };
    }

    @Override
    public String toString() {
        return name + " " + describe();
    }

    /** ONNX's name for a tensor element type, from ONNX Runtime's enum constant. */
    static String elementName(Enum<?> onnxType) {
        String n = onnxType.name();
        int cut = n.lastIndexOf("_TYPE_");
        return (cut < 0 ? n : n.substring(cut + 6)).toLowerCase(Locale.ROOT);
    }
}
