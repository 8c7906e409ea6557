package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One input tensor as a request carried it, whatever the wire: its elements flattened in
 * row-major order, numbers (booleans as 0 and 1) in {@code numbers}, BYTES elements in
 * {@code bytes}. The element count always matches the shape.
 */
record Tensor(String name, Datatype datatype, long[] shape, double[] numbers, List<byte[]> bytes) {
    /** The most dimensions a tensor may have. */
    static final int MAX_RANK = 8;

    Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        int count = datatype == Datatype.BYTES ? bytes.size() : numbers.length;
        long expected = elementCount(name, shape);
        if (expected != count) {
            throw Inference.invalid("input '" + clip(name) + "': shape " + Shapes.text(shape) + " holds "
                    + expected + " elements but " + count + " were given");
        }
    }

    /** The elements {@code shape} holds; refuses negative dimensions, too many dimensions and overflow. */
    static long elementCount(String name, long[] shape) {
        if (shape.length == 0 || shape.length > MAX_RANK) {
            throw Inference.invalid("input '" + clip(name) + "': a shape has 1 to " + MAX_RANK
                    + " dimensions, got " + shape.length);
        }
        long count = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw Inference.invalid("input '" + clip(name) + "': shape " + Shapes.text(shape)
                        + " has a negative dimension");
            }
            try {
                count = Math.multiplyExact(count, dim);
            } catch (ArithmeticException e) {
                throw Inference.invalid("input '" + clip(name) + "': shape " + Shapes.text(shape)
                        + " is too large");
            }
        }
        return count;
    }

    /**
     * A tensor from its elements as raw bytes, as the protocol writes them in gRPC's
     * {@code raw_input_contents} and in the HTTP body of the binary tensor data extension:
     * little-endian, row-major, no padding; BOOL one byte each; a BYTES element a 4-byte length,
     * then its bytes. {@code raw} is read from its position to its limit and must hold exactly the
     * elements of {@code shape}.
     */
    static Tensor fromRaw(String name, Datatype datatype, long[] shape, ByteBuffer raw) {
        long count = elementCount(name, shape);
        ByteBuffer in = raw.slice().order(ByteOrder.LITTLE_ENDIAN);
        int size = in.remaining();
        if (datatype == Datatype.BYTES) {
            List<byte[]> elements = new ArrayList<>();
            while (in.hasRemaining()) {
                if (in.remaining() < 4 || elements.size() >= count) {
                    throw rawSize(name, datatype, shape, size);
                }
                int length = in.getInt();
                if (length < 0 || length > in.remaining()) {
                    throw rawSize(name, datatype, shape, size);
                }
                byte[] element = new byte[length];
                in.get(element);
                elements.add(element);
            }
            return new Tensor(name, datatype, shape, new double[0], elements);
        }
        // count fits a long; the byte size may not, and then no body holds it
        if (count > Integer.MAX_VALUE / datatype.size() || size != count * datatype.size()) {
            throw rawSize(name, datatype, shape, size);
        }
        double[] numbers = new double[(int) count];
        for (int i = 0; i < numbers.length; i++) {
            numbers[i] = switch (datatype) {
                case BOOL -> in.get() != 0 ? 1 : 0;
                case INT32 -> in.getInt();
                case INT64 -> in.getLong();
                case FP32 -> finite(in.getFloat(), name, i);
                default -> finite(in.getDouble(), name, i);
            };
        }
        return new Tensor(name, datatype, shape, numbers, List.of());
    }

    private static RuntimeException rawSize(String name, Datatype datatype, long[] shape, int size) {
        return Inference.invalid("input '" + clip(name) + "': " + size + " raw bytes do not hold the " + datatype
                + " elements of shape " + Shapes.text(shape));
    }

    static double finite(double value, String name, int index) {
        if (!Double.isFinite(value)) {
            throw Inference.invalid("input '" + clip(name) + "': element " + index + " is not a finite number");
        }
        return value;
    }

    int rows() {
        return (int) shape[0];
    }
}
