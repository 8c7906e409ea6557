package dev.mlserver.gateway.v2;

/** Shapes as text for messages. */
final class Shapes {
    private Shapes() {}

    static String text(long[] shape) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < shape.length && i < Tensor.MAX_RANK + 1; i++) {
            out.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return out.append(shape.length > Tensor.MAX_RANK + 1 ? ", ...]" : "]").toString();
    }
}
