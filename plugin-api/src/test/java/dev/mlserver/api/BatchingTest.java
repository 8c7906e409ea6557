package dev.mlserver.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * The {@code batching:} setting and its check, on predictors whose batch dependence is known:
 * one that answers each text alone, one whose answers move with the longest text of the batch
 * (as padding moves a quantized encoder's). The example family's real models are checked in
 * their own modules and through the gateway.
 */
class BatchingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> LABELS = List.of("negative", "positive");

    @Test
    void noSectionNullOrFalseIsOneTextPerCall() throws Exception {
        assertThat(Batching.read(JSON.readTree("{}")).enabled()).isFalse();
        assertThat(Batching.read(JSON.readTree("{\"batching\": null}")).enabled()).isFalse();
        assertThat(Batching.read(JSON.readTree("{\"batching\": false}")).enabled()).isFalse();
        assertThat(Batching.off().chunks(List.of(1, 2, 3))).containsExactly(List.of(1), List.of(2), List.of(3));
    }

    @Test
    void aSectionGivesTheRunLengthAndTheExamples() throws Exception {
        Batching batching = Batching.read(card("{\"max_texts\": 2, \"examples\": [\"a\", {\"text\": \"bb\"}, \"ccc\"]}"));
        assertThat(batching.enabled()).isTrue();
        assertThat(batching.examples()).hasSize(3);
        assertThat(batching.chunks(List.of(1, 2, 3))).containsExactly(List.of(1, 2), List.of(3));
    }

    @Test
    void everyWrongShapeIsRefusedNamingTheKey() {
        for (String section : List.of("true", "8", "\"yes\"", "{\"examples\": [\"a\", \"b\"]}",
                "{\"max_texts\": 2.5, \"examples\": [\"a\", \"b\"]}", "{\"max_texts\": 0}",
                "{\"max_texts\": 100000, \"examples\": [\"a\", \"b\"]}", "{\"max_texts\": 4, \"examples\": \"a\"}",
                "{\"max_texts\": 4, \"examples\": [\"only one\"]}", "{\"max_texts\": 4}",
                "{\"max_texts\": 4, \"examples\": [\"a\", \"b\"], \"sort\": true}")) {
            assertThatThrownBy(() -> Batching.read(card(section))).as(section)
                    .isInstanceOf(ClassifierException.class).hasMessageStartingWith("batching: ")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    @Test
    void aModelThatAnswersEachTextAloneInABatchPasses() throws Exception {
        Batching batching = Batching.read(card("{\"max_texts\": 3, \"examples\": [\"a\", \"bbbb\", \"cc\", \"ddddddd\"]}"));
        batching.check(instances -> predict(instances, batching, padding -> 0));
    }

    @Test
    void aModelWhoseAnswersMoveWithThePaddingIsRefusedWithOneLine() throws Exception {
        Batching batching = Batching.read(card("{\"max_texts\": 3, \"examples\": [\"a\", \"bbbb\", \"cc\", \"ddddddd\"]}"));
        // each answer moves by 0.01 per padding token, as a batch-wide quantisation scale moves it
        assertThatThrownBy(() -> batching.check(instances -> predict(instances, batching, padding -> padding)))
                .isInstanceOf(ClassifierException.class)
                .hasMessageStartingWith("batching: refused, batched answers differ from one-at-a-time answers on 3 of 4 examples")
                .hasMessageContaining("remove 'batching:'")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void aDifferenceWithinTheToleranceIsTheSameAnswer() throws Exception {
        Batching batching = Batching.read(card("{\"max_texts\": 4, \"examples\": [\"a\", \"bb\"]}"));
        batching.check(instances -> predict(instances, batching, padding -> padding * Batching.TOLERANCE / 4 / 0.01));
    }

    @Test
    void batchingOffChecksNothing() {
        Batching.off().check(instances -> {
            throw new AssertionError("no model call expected");
        });
    }

    private static JsonNode card(String section) throws Exception {
        return JSON.readTree("{\"batching\": " + section + "}");
    }

    /**
     * A stand-in text model: the probability of "positive" is 0.2 plus 0.01 per character of the
     * text, shifted by {@code 0.01 * drift(padding)} where padding is how much shorter the text is
     * than the longest text of its run.
     */
    private static List<Prediction> predict(List<JsonNode> instances, Batching batching,
                                            IntToDoubleFunction drift) {
        List<Prediction> out = new ArrayList<>();
        for (List<JsonNode> run : batching.chunks(instances)) {
            int longest = run.stream().mapToInt(BatchingTest::length).max().orElse(0);
            for (JsonNode instance : run) {
                int padding = longest - length(instance);
                float positive = 0.2f + 0.01f * length(instance) + 0.01f * (float) drift.applyAsDouble(padding);
                out.add(Prediction.of(LABELS, new float[] {1 - positive, positive}));
            }
        }
        return out;
    }

    private static int length(JsonNode instance) {
        return (instance.isObject() ? instance.path("text") : instance).asText().length();
    }
}
