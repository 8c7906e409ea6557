package dev.mlserver.examples.sentiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.api.Prediction;
import dev.mlserver.examples.EncoderHeadClassifier;
import dev.mlserver.examples.testing.TextInputContract;
import org.junit.jupiter.api.Test;

class SentimentClassifierTest extends TextInputContract {
    @Test
    void theClassIsTheSharedEncoderHeadClassifier() {
        assertThat(classifier).isExactlyInstanceOf(EncoderHeadClassifier.class);
    }

    @Test
    void anEnthusiasticSentenceIsPositive() {
        assertThat(predict("I love this phone, the battery lasts for days").label()).isEqualTo("positive");
    }

    @Test
    void aComplaintIsNegative() {
        assertThat(predict("The food was cold, the service was slow and I will never come back.").label()).isEqualTo("negative");
    }

    @Test
    void wordsBeyondThe128TokenLimitDoNotChangeTheAnswer() {
        String start = "The screen is gorgeous and the battery lasts forever. ".repeat(20); // about 200 word pieces
        Prediction cut = predict(start);
        Prediction longer = predict(start + "Terrible, awful, broken, useless, a waste of money. ".repeat(50));
        assertThat(longer.probabilities()).isEqualTo(cut.probabilities());
        assertThat(longer.label()).isEqualTo("positive");
    }

    @Test
    void theInputSchemaSaysLongTextIsCut() {
        assertThat(classifier.describe().inputSchema().path("description").asText()).contains("128 WordPiece tokens");
    }
}
