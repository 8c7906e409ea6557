package dev.mlserver.examples.sentiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserver.api.ClassifierException;
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

    @Test
    void batchingIsRefusedAtOpenBecausePaddedRunsChangeTheAnswers() {
        // the quantized MiniLM scales its activations over the whole padded input: a run of 8
        // held-out sentences gives other probabilities than each sentence alone
        assertThatThrownBy(() -> openWithBatching(8, 64))
                .isInstanceOf(ClassifierException.class)
                .hasMessageStartingWith("batching: refused, batched answers differ from one-at-a-time answers on ")
                .hasMessageEndingWith("remove 'batching:' to run one text per call")
                .satisfies(e -> System.out.println("sentiment with batching: " + e.getMessage()));
    }
}
