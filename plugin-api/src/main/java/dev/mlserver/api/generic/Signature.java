package dev.mlserver.api.generic;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.mlserver.api.ClassifierException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A model's inputs and outputs, in declaration order, as ONNX Runtime reads them.
 *
 * @param inputs the inputs
 * @param outputs the outputs
 */
public record Signature(List<Port> inputs, List<Port> outputs) {
    public Signature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** The signature of an open session. */
    public static Signature of(OrtSession session) {
        try {
            return new Signature(ports(session.getInputInfo()), ports(session.getOutputInfo()));
        } catch (OrtException e) {
            throw new ClassifierException("cannot read the model's inputs and outputs: " + e.getMessage(), e);
        }
    }

    public Optional<Port> input(String name) {
        return inputs.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public Optional<Port> output(String name) {
        return outputs.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** {@code inputs: a float[?,4]; outputs: label int64[?], probabilities float[?,3]}, for messages. */
    public String describe() {
        return "inputs: " + join(inputs) + "; outputs: " + join(outputs);
    }

    private static String join(List<Port> ports) {
        return ports.stream().map(Port::toString).collect(Collectors.joining(", "));
    }

    private static List<Port> ports(Map<String, NodeInfo> infos) {
        List<Port> ports = new ArrayList<>();
        for (NodeInfo node : infos.values()) {
            ports.add(port(node.getName(), node.getInfo()));
        }
        return ports;
    }

    private static Port port(String name, ValueInfo info) {
        if (info instanceof TensorInfo tensor) {
            List<Long> shape = new ArrayList<>();
            for (long d : tensor.getShape()) {
                shape.add(d < 0 ? -1L : d);
            }
            return new Port(name, Port.Kind.TENSOR, Port.elementName(tensor.onnxType), "", shape);
        }
        if (info instanceof SequenceInfo sequence && sequence.isSequenceOfMaps()) {
            MapInfo map = sequence.mapInfo;
            return new Port(name, Port.Kind.SEQUENCE_OF_MAPS, javaName(map.valueType), javaName(map.keyType), List.of());
        }
        return new Port(name, Port.Kind.OTHER, info.toString(), "", List.of());
    }

    private static String javaName(OnnxJavaType type) {
        return switch (type) {
            case FLOAT -> "float";
            case DOUBLE -> "double";
            case INT64 -> "int64";
            case INT32 -> "int32";
            case STRING -> "string";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }
}
