package dev.mlserver.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PredictionTest {
    private static final List<String> LABELS = List.of("setosa", "versicolor", "virginica");

    @Test
    void ofPicksTheMostProbableLabel() {
        Prediction p = Prediction.of(LABELS, new float[] {0.1f, 0.7f, 0.2f});
        assertThat(p.label()).isEqualTo("versicolor");
        assertThat(p.labels()).isEqualTo(LABELS);
        assertThat(p.probabilities()).containsExactly(0.1f, 0.7f, 0.2f);
    }

    @Test
    void aTieGoesToTheFirstLabel() {
        assertThat(Prediction.of(LABELS, new float[] {0.4f, 0.4f, 0.2f}).label()).isEqualTo("setosa");
    }

    @Test
    void probabilitiesAreReadByIndexOrLabelWithoutBoxing() {
        Prediction p = Prediction.of(LABELS, new float[] {0.25f, 0.5f, 0.25f});
        assertThat(p.size()).isEqualTo(3);
        assertThat(p.probability(1)).isEqualTo(0.5f);
        assertThat(p.probability("virginica")).isEqualTo(0.25f);
        assertThatThrownBy(() -> p.probability("rose")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rose");
    }

    @Test
    void allGivesOnePredictionPerRow() {
        List<Prediction> all = Prediction.all(LABELS, new float[][] {{1, 0, 0}, {0, 0, 1}});
        assertThat(all).extracting(Prediction::label).containsExactly("setosa", "virginica");
    }

    @Test
    void aRowOfTheWrongLengthIsAClassifierError() {
        assertThatThrownBy(() -> Prediction.of(LABELS, new float[] {0.5f, 0.5f}))
                .isInstanceOf(ClassifierException.class)
                .hasMessage("model gives 2 probabilities for 3 labels");
        assertThatThrownBy(() -> new Prediction("setosa", LABELS, new float[] {1f}))
                .isInstanceOf(ClassifierException.class);
    }

    @Test
    void aLabelNotAmongTheLabelsIsRefused() {
        assertThatThrownBy(() -> new Prediction("rose", LABELS, new float[] {1, 0, 0}))
                .isInstanceOf(ClassifierException.class).hasMessageContaining("'rose'");
    }

    @Test
    void thePredictionCannotBeChangedThroughItsArrays() {
        float[] row = {0.2f, 0.3f, 0.5f};
        Prediction p = Prediction.of(LABELS, row);
        row[0] = 9f;
        p.probabilities()[1] = 9f;
        assertThat(p.probabilities()).containsExactly(0.2f, 0.3f, 0.5f);
    }

    @Test
    void equalPredictionsHaveEqualContents() {
        Prediction a = Prediction.of(LABELS, new float[] {0.2f, 0.3f, 0.5f});
        Prediction b = Prediction.of(List.of("setosa", "versicolor", "virginica"), new float[] {0.2f, 0.3f, 0.5f});
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(Prediction.of(LABELS, new float[] {0.2f, 0.5f, 0.3f}));
        assertThat(a).hasToString("Prediction[virginica {setosa=0.2, versicolor=0.3, virginica=0.5}]");
    }
}
