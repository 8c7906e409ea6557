package dev.mlserver.examples.spam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Batching;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.Prediction;
import dev.mlserver.examples.TextGraphClassifier;
import dev.mlserver.examples.testing.TextInputContract;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpamClassifierTest extends TextInputContract {
    static final String SPAM = "Subject: URGENT: you have WON $1,000,000 - claim your FREE prize now!!!\n\n"
            + "Dear friend, you have been selected to receive a cash prize. Click here to claim your money now. "
            + "Limited time offer, act now! To be removed from our mailing list reply with REMOVE.";
    static final String HAM = "Subject: Re: build failure on the test server\n\n"
            + "I looked at the log this morning. The failing test depends on the timezone of the machine; "
            + "I pushed a fix to the branch, can you rerun it and let me know? Thanks, Mark";

    @Test
    void theClassIsTheSharedStringGraphClassifier() {
        assertThat(classifier).isExactlyInstanceOf(TextGraphClassifier.class);
    }

    @Test
    void anObviousSpamMailIsSpam() {
        Prediction p = predict(SPAM);
        assertThat(p.label()).isEqualTo("spam");
        assertThat(p.probability("spam")).isGreaterThan(0.9f);
    }

    @Test
    void anOrdinaryWorkMailIsHam() {
        Prediction p = predict(HAM);
        assertThat(p.label()).isEqualTo("ham");
        assertThat(p.probability("ham")).isGreaterThan(0.9f);
    }

    @Test
    void textBeyondTheModelsCharacterCapIsIgnored() {
        String head = HAM + "\n" + "x".repeat(5000);
        Prediction cut = predict(head);
        Prediction padded = predict(head + " win free money cash prize click here now ".repeat(200));
        assertThat(padded.probabilities()).isEqualTo(cut.probabilities());
    }

    @Test
    void textIsLowercasedInsideTheGraph() {
        assertThat(predict(SPAM.toUpperCase(java.util.Locale.ROOT)).probabilities())
                .isEqualTo(predict(SPAM.toLowerCase(java.util.Locale.ROOT)).probabilities());
    }

    @Test
    void batchingPassesItsCheckOnTheWholeHeldOutSetAndKeepsEveryAnswer() {
        // TF-IDF, normalisation and a linear layer treat each row alone: runs of 8 mails give the
        // answers one mail per run gives, so the check at open lets batching on
        Classifier batched = openWithBatching(8, 400);
        try {
            List<JsonNode> mails = heldOutInstances(400);
            List<Prediction> runs = batched.predict(mails);
            List<Prediction> alone = classifier.predict(mails);
            for (int i = 0; i < mails.size(); i++) {
                assertThat(runs.get(i).label()).as("mail %d", i).isEqualTo(alone.get(i).label());
                assertThat(runs.get(i).probabilities()).as("mail %d", i)
                        .containsExactly(alone.get(i).probabilities(), within(Batching.TOLERANCE));
            }
        } finally {
            batched.close();
        }
    }
}
