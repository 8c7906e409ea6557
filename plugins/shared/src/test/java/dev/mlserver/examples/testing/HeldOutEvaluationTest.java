package dev.mlserver.examples.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class HeldOutEvaluationTest {
    @Test
    void macroF1AveragesPerLabelF1WithoutWeighting() {
        // a: tp 2, fp 1, fn 0 -> F1 0.8; b: tp 1, fp 1, fn 1 -> F1 0.5; c: tp 0 -> F1 0
        List<String> truth = List.of("a", "a", "b", "b", "c");
        List<String> predicted = List.of("a", "a", "b", "a", "b");
        HeldOutEvaluation.Figures figures = HeldOutEvaluation.figures(truth, predicted);
        assertThat(figures.accuracy()).isCloseTo(0.6, within(1e-12));
        assertThat(figures.macroF1()).isCloseTo((0.8 + 0.5 + 0) / 3, within(1e-12));
        assertThat(figures.rows()).isEqualTo(5);
    }
}
