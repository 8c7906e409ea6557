package dev.mlserver.api.generic;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The class labels a model's graph declares in its classifier nodes ({@code ZipMap},
 * {@code LinearClassifier}, {@code TreeEnsembleClassifier}, {@code SVMClassifier}, ...): their
 * {@code classlabels_strings}, {@code classlabels_int64s} or {@code classlabels_ints} attribute.
 *
 * <p>ONNX Runtime does not expose graph nodes, so the model's protobuf is read here directly: only
 * the fields on the way to node attributes are decoded, everything else (initializers, weights) is
 * skipped by length.
 */
final class GraphLabels {
    private static final int MODEL_GRAPH = 7;
    private static final int GRAPH_NODE = 1;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    private static final int ATTRIBUTE_NAME = 1;
    private static final int ATTRIBUTE_INTS = 8;
    private static final int ATTRIBUTE_STRINGS = 9;

    private GraphLabels() {}

    /**
     * The labels of the model's ZipMap node when it has one (its keys are what the probability
     * maps hold), else of its first classifier node; empty when no node declares labels or the
     * bytes are not a model.
     */
    static Optional<List<String>> of(byte[] model) {
        try {
            List<Node> nodes = nodes(model);
            Optional<List<String>> zipMap = nodes.stream().filter(n -> n.opType.equals("ZipMap"))
                    .map(n -> n.labels).filter(l -> !l.isEmpty()).findFirst();
            if (zipMap.isPresent()) {
                return zipMap;
            }
            return nodes.stream().map(n -> n.labels).filter(l -> !l.isEmpty()).findFirst();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private record Node(String opType, List<String> labels) {}

    private static List<Node> nodes(byte[] model) {
        List<Node> nodes = new ArrayList<>();
        Reader top = new Reader(model, 0, model.length);
        while (top.more()) {
            int tag = top.varint32();
            if (tag >>> 3 == MODEL_GRAPH && (tag & 7) == 2) {
                Reader graph = top.embedded();
                while (graph.more()) {
                    int t = graph.varint32();
                    if (t >>> 3 == GRAPH_NODE && (t & 7) == 2) {
                        nodes.add(node(graph.embedded()));
                    } else {
                        graph.skip(t & 7);
                    }
                }
            } else {
                top.skip(tag & 7);
            }
        }
        return nodes;
    }

    private static Node node(Reader node) {
        String opType = "";
        List<String> labels = new ArrayList<>();
        while (node.more()) {
            int tag = node.varint32();
            if (tag >>> 3 == NODE_OP_TYPE && (tag & 7) == 2) {
                opType = node.string();
            } else if (tag >>> 3 == NODE_ATTRIBUTE && (tag & 7) == 2) {
                attribute(node.embedded(), labels);
            } else {
                node.skip(tag & 7);
            }
        }
        return new Node(opType, List.copyOf(labels));
    }

    private static void attribute(Reader attribute, List<String> labels) {
        String name = "";
        List<String> strings = new ArrayList<>();
        List<String> ints = new ArrayList<>();
        while (attribute.more()) {
            int tag = attribute.varint32();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == ATTRIBUTE_NAME && wire == 2) {
                name = attribute.string();
            } else if (field == ATTRIBUTE_STRINGS && wire == 2) {
                strings.add(attribute.string());
            } else if (field == ATTRIBUTE_INTS && wire == 0) {
                ints.add(Long.toString(attribute.varint64()));
            } else if (field == ATTRIBUTE_INTS && wire == 2) {
                Reader packed = attribute.embedded();
                while (packed.more()) {
                    ints.add(Long.toString(packed.varint64()));
                }
            } else {
                attribute.skip(wire);
            }
        }
        if (labels.isEmpty() && name.equals("classlabels_strings")) {
            labels.addAll(strings);
        } else if (labels.isEmpty() && (name.equals("classlabels_int64s") || name.equals("classlabels_ints"))) {
            labels.addAll(ints);
        }
    }

    /** A protobuf wire-format cursor over {@code [position, end)}. */
    private static final class Reader {
        private final byte[] bytes;
        private int position;
        private final int end;

        Reader(byte[] bytes, int position, int end) {
            this.bytes = bytes;
            this.position = position;
            this.end = end;
        }

        boolean more() {
            return position < end;
        }

        long varint64() {
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = bytes[position++];
                value |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    return value;
                }
            }
            throw new IllegalStateException("malformed varint");
        }

        int varint32() {
            return (int) varint64();
        }

        Reader embedded() {
            int length = length();
            Reader inner = new Reader(bytes, position, position + length);
            position += length;
            return inner;
        }

        String string() {
            int length = length();
            String s = new String(bytes, position, length, StandardCharsets.UTF_8);
            position += length;
            return s;
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint64();
                case 1 -> position += 8;
                case 2 -> {
                    int length = length();
                    position += length;
                }
                case 5 -> position += 4;
                default -> throw new IllegalStateException("unsupported wire type " + wire);
            }
            if (position > end) {
                throw new IllegalStateException("truncated message");
            }
        }

        private int length() {
            long length = varint64();
            if (length < 0 || position + length > end) {
                throw new IllegalStateException("truncated message");
            }
            return (int) length;
        }
    }
}
