package dev.mlserver.examples.topic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.examples.EncoderHeadClassifier;
import dev.mlserver.examples.testing.TextInputContract;
import org.junit.jupiter.api.Test;

class TopicClassifierTest extends TextInputContract {
    @Test
    void theClassIsTheSharedEncoderHeadClassifier() {
        assertThat(classifier).isExactlyInstanceOf(EncoderHeadClassifier.class);
    }

    @Test
    void aSentenceAboutAMealIsAboutARestaurant() {
        assertThat(predict("The pasta was overcooked but the waiter was lovely").label()).isEqualTo("restaurant");
    }

    @Test
    void aSentenceAboutActingIsAboutAMovie() {
        assertThat(predict("The acting was wooden and the plot made no sense").label()).isEqualTo("movie");
    }

    @Test
    void aSentenceAboutAHeadsetIsAboutAProduct() {
        assertThat(predict("The headset broke after two weeks and the charger never fit").label()).isEqualTo("product");
    }
}
