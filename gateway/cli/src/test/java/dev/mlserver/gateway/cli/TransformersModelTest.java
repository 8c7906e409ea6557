package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.ExportedModels;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transformers journey: an optimum-shaped sequence classifier (the MiniLM encoder with masked
 * mean pooling and the sentiment head appended in the graph, output {@code logits}) with its real
 * tokenizer.json and a config.json, made a plugin with no Java and served beside the hand-written
 * {@code sentiment} plugin. Both give the same labels on the sentiment held-out set.
 */
class TransformersModelTest {
    private static final int BATCH = 32;

    @TempDir
    static Path work;
    private static TestGateway gateway;
    private static String initOutput;

    @BeforeAll
    static void packageAndServe() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Path dir = work.resolve("reviews");
        Path model = ExportedModels.dir("sentiment-logits");
        Cli.Result init = Cli.run("init", dir.toString(), "--from-model", model.resolve("model.onnx").toString(),
                "--tokenizer", model.resolve("tokenizer.json").toString());
        assertThat(init.exit()).as(init.out() + init.err()).isZero();
        initOutput = init.out();
        Cli.Result packaged = Cli.run("package", dir.toString(), "--output", plugins.resolve("reviews.jar").toString());
        assertThat(packaged.exit()).as(packaged.out() + packaged.err()).isZero();
        Files.copy(TestGateway.examplePlugins().resolve("sentiment.jar"), plugins.resolve("sentiment.jar"));
        gateway = TestGateway.start(plugins, "plugins:\n  watch: false\n");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void initReadsLabelsFromConfigJsonAndTheLengthFromTheTokenizer() throws Exception {
        String yaml = Files.readString(work.resolve("reviews/mlserver.yaml"));
        assertThat(yaml).contains("labels: [\"negative\", \"positive\"]").contains("max_length: 128")
                .contains("{name: \"logits\", type: \"float[?,2]\"}").contains("tokenizer: tokenizer.json");
        assertThat(initOutput).contains("config.json").contains("tokenizer.json").contains("text classifier reviews");
    }

    @Test
    void givesTheSameLabelsAsTheSentimentPluginOnItsHeldOutSet() throws Exception {
        List<JsonNode> sentences = new ArrayList<>();
        for (String line : Files.readAllLines(ExportedModels.sentimentHeldout())) {
            if (!line.isBlank()) {
                sentences.add(TestGateway.JSON.createObjectNode().put("text", TestGateway.JSON.readTree(line).path("text").asText()));
            }
        }
        assertThat(sentences).hasSizeGreaterThan(500);
        int agree = 0;
        List<String> differ = new ArrayList<>();
        for (int from = 0; from < sentences.size(); from += BATCH) {
            ArrayNode batch = JsonNodeFactory.instance.arrayNode();
            sentences.subList(from, Math.min(from + BATCH, sentences.size())).forEach(batch::add);
            String body = JsonNodeFactory.instance.objectNode().set("payload", batch).toString();
            JsonNode generic = TestGateway.json(gateway.post("/reviews/predict", body)).path("predictions");
            JsonNode plugin = TestGateway.json(gateway.post("/sentiment/predict", body)).path("predictions");
            assertThat(generic.size()).isEqualTo(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                if (generic.get(i).asText().equals(plugin.get(i).asText())) {
                    agree++;
                } else {
                    differ.add(batch.get(i).path("text").asText());
                }
            }
        }
        assertThat(differ).as("%d of %d agree", agree, sentences.size()).isEmpty();
    }

    @Test
    void oneTextGivesTheSameProbabilitiesAloneAndInABatch() {
        String text = "The battery died after two days and support never answered.";
        JsonNode alone = TestGateway.json(gateway.post("/reviews/predict_proba",
                "{\"payload\": {\"text\": \"" + text + "\"}}")).path("predictions").get(0);
        JsonNode batched = TestGateway.json(gateway.post("/reviews/predict_proba",
                "{\"payload\": [{\"text\": \"ok\"}, {\"text\": \"" + text + "\"}, {\"text\": \"a much longer sentence than the others, "
                        + "with many more tokens in it than either of them\"}]}")).path("predictions").get(1);
        assertThat(batched).isEqualTo(alone);
    }

    @Test
    void aTextLongerThanTheModelReadsIsAnsweredAndSaysItWasTruncated() {
        String longText = "The food was great and the staff were friendly. ".repeat(40);
        JsonNode cut = TestGateway.json(gateway.post("/reviews/predict",
                "{\"payload\": [{\"text\": \"short and sweet\"}, {\"text\": \"" + longText + "\"}]}"));
        assertThat(cut.path("predictions")).hasSize(2);
        assertThat(cut.path("truncated").asBoolean()).isTrue();
        assertThat(cut.path("truncated_instances").toString()).isEqualTo("[1]");
        JsonNode whole = TestGateway.json(gateway.post("/reviews/predict", "{\"payload\": {\"text\": \"short and sweet\"}}"));
        assertThat(whole.has("truncated")).isFalse();
    }

    @Test
    void badTextGetsA400AndAWeirdOneAnAnswer() {
        HttpResponse<String> empty = gateway.post("/reviews/predict", "{\"payload\": {\"text\": \"  \"}}");
        assertThat(empty.statusCode()).isEqualTo(400);
        HttpResponse<String> number = gateway.post("/reviews/predict", "{\"payload\": 42}");
        assertThat(number.statusCode()).isEqualTo(400);
        HttpResponse<String> weird = gateway.post("/reviews/predict", "{\"payload\": {\"text\": \"nul \\u0000 emoji \\ud83d\\ude00 lone \\ud800\"}}");
        assertThat(weird.statusCode()).as(weird.body()).isIn(200, 400);
    }
}
