package dev.mlserver.gateway.v2;

import static dev.mlserver.gateway.Messages.clip;

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

    int rows() {
        return (int) shape[0];
    }
}
