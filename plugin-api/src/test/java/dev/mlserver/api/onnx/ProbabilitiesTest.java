package dev.mlserver.api.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ProbabilitiesTest {
    @Test
    void softmaxGivesProbabilitiesThatSumToOne() {
        float[] p = Probabilities.softmax(new float[] {1f, 2f, 3f});
        assertThat(p[0] + p[1] + p[2]).isCloseTo(1f, within(1e-6f));
        assertThat(p[2]).isCloseTo(0.66524f, within(1e-5f));
        assertThat(p[0]).isLessThan(p[1]).isLessThan(p[2]);
    }

    @Test
    void softmaxIsStableForLargeLogits() {
        float[] p = Probabilities.softmax(new float[] {1000f, 1000f});
        assertThat(p).containsExactly(0.5f, 0.5f);
    }

    @Test
    void argmaxTakesTheFirstOfEqualValues() {
        assertThat(Probabilities.argmax(new float[] {0.1f, 0.7f, 0.2f})).isEqualTo(1);
        assertThat(Probabilities.argmax(new float[] {0.4f, 0.4f})).isZero();
        assertThat(Probabilities.argmax(new float[] {-3f})).isZero();
    }
}
