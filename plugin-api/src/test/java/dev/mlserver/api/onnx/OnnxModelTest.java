package dev.mlserver.api.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserver.api.ClassifierException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The iris example's model (standardise, linear, softmax: one {@code [n, 4]} float input, one
 * {@code [n, 3]} float output), run through the one-row path and the general one.
 */
class OnnxModelTest {
    private OnnxModel model;

    @BeforeEach
    void open() throws IOException {
        try (InputStream in = OnnxModelTest.class.getResourceAsStream("/models/iris.onnx")) {
            model = OnnxModel.open(in.readAllBytes(), 1, "iris.onnx");
        }
    }

    @AfterEach
    void close() {
        model.close();
    }

    @Test
    void oneRowAfterAnotherOnOneThreadGetsTheAnswersOfTheGeneralPath() {
        for (int i = 0; i < 50; i++) {
            float[] row = row(i);
            float[][] pinned = model.runFloats("features", new float[][] {row}, "probabilities");
            assertThat(pinned).isDeepEqualTo(general(row));
        }
        assertThat(model.runFloats("features", new float[][] {row(1)}, "probabilities")[0])
                .isNotEqualTo(model.runFloats("features", new float[][] {row(2)}, "probabilities")[0]);
    }

    @Test
    void threadsRunningAtOnceEachGetTheirOwnRowsAnswers() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t * 1000;
                runs.add(threads.submit(() -> {
                    int checked = 0;
                    for (int i = 0; i < 500; i++) {
                        float[] row = row(offset + i);
                        assertThat(model.runFloats("features", new float[][] {row}, "probabilities")).isDeepEqualTo(general(row));
                        checked++;
                    }
                    return checked;
                }));
            }
            for (Future<Integer> run : runs) {
                assertThat(run.get()).isEqualTo(500);
            }
        } finally {
            threads.shutdown();
        }
    }

    @Test
    void severalRowsGoTheGeneralWayWithOneAnswerPerRow() {
        float[][] rows = {row(3), row(4), row(5)};
        float[][] answers = model.runFloats("features", rows, "probabilities");
        assertThat(answers).hasDimensions(3, 3);
        for (int i = 0; i < rows.length; i++) {
            assertThat(answers[i]).containsExactly(general(rows[i])[0]);
        }
    }

    @Test
    void anUnknownOutputOrAWrongWidthIsAClassifierError() {
        assertThatThrownBy(() -> model.runFloats("features", new float[][] {row(0)}, "label"))
                .isInstanceOf(ClassifierException.class).hasMessage("the model has no output named 'label'");
        assertThatThrownBy(() -> model.runFloats("features", new float[][] {{1, 2, 3}}, "probabilities"))
                .isInstanceOf(ClassifierException.class).hasMessageStartingWith("model run failed");
        // the thread's one-row tensors still serve the model's real shape afterwards
        assertThat(model.runFloats("features", new float[][] {row(6)}, "probabilities")).isDeepEqualTo(general(row(6)));
    }

    private float[][] general(float[] row) {
        return model.runFloats(Map.of("features", Tensors.floats(new float[][] {row})), "probabilities");
    }

    /** Rows spread over the iris measurement ranges, so that answers differ from row to row. */
    private static float[] row(int i) {
        return new float[] {4.3f + (i % 37) * 0.1f, 2.0f + (i % 23) * 0.1f, 1.0f + (i % 59) * 0.1f, 0.1f + (i % 25) * 0.1f};
    }
}
