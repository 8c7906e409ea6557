package dev.mlserver.api.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import dev.mlserver.api.ClassifierException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/** Conversions between Java arrays and ONNX Runtime tensors. */
public final class Tensors {
    private Tensors() {}

    /** A {@code [rows, columns]} float tensor. Every row must have the same length. */
    public static OnnxTensor floats(float[][] rows) {
        int columns = rows.length == 0 ? 0 : rows[0].length;
        FloatBuffer buffer = FloatBuffer.allocate(rows.length * columns);
        for (float[] row : rows) {
            if (row.length != columns) {
                throw new ClassifierException("ragged float matrix");
            }
            buffer.put(row);
        }
        buffer.flip();
        return create(() -> OnnxTensor.createTensor(OnnxModel.environment(), buffer, new long[] {rows.length, columns}));
    }

    /** A {@code [rows, columns]} int64 tensor, as token ids are. Every row must have the same length. */
    public static OnnxTensor longs(long[][] rows) {
        int columns = rows.length == 0 ? 0 : rows[0].length;
        LongBuffer buffer = LongBuffer.allocate(rows.length * columns);
        for (long[] row : rows) {
            if (row.length != columns) {
                throw new ClassifierException("ragged int64 matrix");
            }
            buffer.put(row);
        }
        buffer.flip();
        return create(() -> OnnxTensor.createTensor(OnnxModel.environment(), buffer, new long[] {rows.length, columns}));
    }

    /**
     * A string tensor of the given shape. Sanitise text with {@link dev.mlserver.api.input.Text#forNative} first: ONNX
     * Runtime rejects NULs, lone surrogates and characters beyond the Basic Multilingual Plane.
     */
    public static OnnxTensor strings(String[] values, long... shape) {
        return create(() -> OnnxTensor.createTensor(OnnxModel.environment(), values, shape));
    }

    /**
     * Reads a float output as rows: a {@code [n, k]} tensor gives n rows, a {@code [k]} tensor
     * gives one row, a {@code [n, t, k]} tensor gives n rows of t*k values.
     */
    public static float[][] floatRows(OnnxValue value) {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new ClassifierException("model output is not a tensor");
        }
        long[] shape = tensor.getInfo().getShape();
        FloatBuffer data = tensor.getFloatBuffer();
        if (data == null) {
            throw new ClassifierException("model output is not a float tensor");
        }
        int rows = shape.length <= 1 ? 1 : (int) shape[0];
        int columns = rows == 0 ? 0 : data.remaining() / rows;
        float[][] out = new float[rows][columns];
        for (float[] row : out) {
            data.get(row);
        }
        return out;
    }

    private interface TensorFactory {
        OnnxTensor create() throws OrtException;
    }

    private static OnnxTensor create(TensorFactory factory) {
        try {
            return factory.create();
        } catch (OrtException e) {
            throw new ClassifierException("cannot create tensor: " + e.getMessage(), e);
        }
    }
}
