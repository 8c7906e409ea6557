package dev.mlserver.examples.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Batching;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.InvalidInputException;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Text;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What every text classifier of the family does with awkward text, at the classifier level:
 * either a prediction with a known label and probabilities that sum to one, or an
 * {@link InvalidInputException} (a 400 with its message), never anything else. A module's test
 * extends this and names nothing: the module's own classifier class is opened on its artifacts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class TextInputContract {
    protected Classifier classifier;
    protected List<String> labels;

    @BeforeAll
    void openClassifier() {
        classifier = PluginModule.current().open();
        labels = classifier.describe().labels();
    }

    @AfterAll
    void closeClassifier() {
        classifier.close();
    }

    protected Prediction predict(String text) {
        List<Prediction> out = classifier.predict(List.of(Text.example(text)));
        assertThat(out).hasSize(1);
        Prediction p = out.get(0);
        assertThat(labels).contains(p.label());
        assertThat(p.labels()).containsExactlyElementsOf(labels);
        double sum = 0;
        for (float v : p.probabilities()) {
            assertThat(v).isFinite().isBetween(0f, 1f);
            sum += v;
        }
        assertThat(sum).isBetween(0.999, 1.001);
        return p;
    }

    protected void assertRefused(JsonNode instance, String messagePart) {
        assertThatThrownBy(() -> classifier.predict(List.of(instance)))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(messagePart);
    }

    @Test
    void emptyTextIsRefusedWithAClearMessage() {
        assertRefused(Text.example(""), "'text' is empty");
    }

    @Test
    void whitespaceOnlyTextIsRefusedWithAClearMessage() {
        assertRefused(Text.example(" \t\n\r\u00a0\u2003\u3000 "), "'text' is empty");
    }

    @Test
    void textBeyondTheGatewayWideCharacterLimitIsRefused() {
        assertRefused(Text.example("a".repeat(Text.DEFAULT_MAX_CHARS + 1)), "longer than");
    }

    @Test
    void aNonStringTextIsRefused() {
        assertRefused(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("text", 42), "a text instance");
    }

    @Test
    void veryLongTextGetsAPrediction() {
        predict("this is a long text that goes on and on. ".repeat(2000));
    }

    @Test
    void nulCharactersGetAPrediction() {
        predict("hello\u0000world\u0000");
    }

    @Test
    void textOfOnlyNulsGetsAPrediction() {
        predict("\u0000\u0000\u0000");
    }

    @Test
    void emojiGetAPrediction() {
        predict("great stuff \uD83D\uDE00\uD83D\uDC4D\uD83C\uDFFD");
    }

    @Test
    void textOfOnlyEmojiGetsAPrediction() {
        predict("\uD83D\uDE00\uD83D\uDE00");
    }

    @Test
    void loneSurrogatesGetAPrediction() {
        predict("broken \uD800 text \uDC00 here \uDBFF");
    }

    @Test
    void nonLatinScriptsGetAPrediction() {
        predict("Это был отличный день");
        predict("这个产品非常好用");
        predict("هذا المنتج رائع جدا");
        predict("यह बहुत अच्छा है");
        predict("こんにちは、世界");
    }

    @Test
    void aBatchWithOneBadTextNamesTheInstance() {
        assertThatThrownBy(() -> classifier.predict(List.of(Text.example("fine"), Text.example("  "))))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("instance 1:");
    }

    @Test
    void aBatchGivesTheSameAnswersAsOneTextAtATime() {
        List<JsonNode> texts = new ArrayList<>(List.of(Text.example("short"),
                Text.example("a somewhat longer text with more words in it than the first one"),
                Text.example("\uD83D\uDE00 emoji and \u0000 nul"), Text.example("Это был отличный день")));
        texts.addAll(heldOutInstances(60));
        List<Prediction> batch = classifier.predict(texts);
        assertThat(batch).hasSameSizeAs(texts);
        for (int i = 0; i < texts.size(); i++) {
            Prediction single = classifier.predict(List.of(texts.get(i))).get(0);
            assertThat(batch.get(i)).as("instance %d", i).isEqualTo(single);
        }
    }

    /** The first {@code count} instances of the module's held-out split. */
    protected static List<JsonNode> heldOutInstances(int count) {
        List<HeldOutEvaluation.Example> examples = HeldOutEvaluation.read(
                HeldOutEvaluation.heldOutFile(PluginModule.current().dir()));
        return examples.subList(0, Math.min(count, examples.size())).stream().map(HeldOutEvaluation.Example::instance).toList();
    }

    /**
     * Opens the module's classifier with {@code batching:} added to its card: runs of
     * {@code maxTexts}, checked on the first {@code examples} held-out instances.
     */
    protected static Classifier openWithBatching(int maxTexts, int examples) {
        PluginModule module = PluginModule.current();
        ObjectNode card = module.card().deepCopy();
        ObjectNode batching = card.putObject(Batching.KEY).put("max_texts", maxTexts);
        heldOutInstances(examples).forEach(batching.putArray("examples")::add);
        Classifier batched = module.newClassifier();
        batched.open(module.context(card));
        return batched;
    }
}
