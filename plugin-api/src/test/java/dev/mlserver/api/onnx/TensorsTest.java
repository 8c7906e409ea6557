package dev.mlserver.api.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import dev.mlserver.api.ClassifierException;
import org.junit.jupiter.api.Test;

/** Real ONNX Runtime tensors, made and read back. */
class TensorsTest {
    @Test
    void aFloatMatrixReadsBackAsRows() {
        try (OnnxTensor t = Tensors.floats(new float[][] {{1, 2, 3}, {4, 5, 6}})) {
            assertThat(t.getInfo().getShape()).containsExactly(2, 3);
            assertThat(Tensors.floatRows(t)).isDeepEqualTo(new float[][] {{1, 2, 3}, {4, 5, 6}});
        }
    }

    @Test
    void aRaggedMatrixIsAClassifierError() {
        assertThatThrownBy(() -> Tensors.floats(new float[][] {{1, 2}, {3}})).isInstanceOf(ClassifierException.class)
                .hasMessage("ragged float matrix");
        assertThatThrownBy(() -> Tensors.longs(new long[][] {{1, 2}, {3}})).isInstanceOf(ClassifierException.class)
                .hasMessage("ragged int64 matrix");
    }

    @Test
    void tokenIdsBecomeAnInt64Tensor() throws OrtException {
        try (OnnxTensor t = Tensors.longs(new long[][] {{101, 7592, 102}})) {
            assertThat(t.getInfo().getShape()).containsExactly(1, 3);
            assertThat((long[][]) t.getValue()).isDeepEqualTo(new long[][] {{101, 7592, 102}});
        }
    }

    @Test
    void stringsKeepTheirShape() throws OrtException {
        try (OnnxTensor t = Tensors.strings(new String[] {"a", "b"}, 2)) {
            assertThat(t.getInfo().getShape()).containsExactly(2);
            assertThat((String[]) t.getValue()).containsExactly("a", "b");
        }
    }

    @Test
    void aVectorIsOneRowAndANonFloatTensorIsRefused() {
        try (OnnxTensor v = Tensors.floats(new float[][] {{0.25f, 0.75f}})) {
            assertThat(Tensors.floatRows(v)).hasDimensions(1, 2);
        }
        try (OnnxTensor ids = Tensors.longs(new long[][] {{1}})) {
            assertThatThrownBy(() -> Tensors.floatRows(ids)).isInstanceOf(ClassifierException.class)
                    .hasMessage("model output is not a float tensor");
        }
    }
}
