package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.ExportedModels;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text runs one text per model call; {@code batching:} in a card is honoured only when the model's
 * batched answers equal its one-at-a-time answers. The real model here is the optimum-shaped
 * MiniLM sentiment classifier (quantized encoder, head in the graph) with its tokenizer.json:
 * padded runs change its probabilities, so the card that asks for batching is refused at load,
 * with one line, while the same model without it and the other classifiers serve.
 */
class TextBatchingTest {
    private static final int EXAMPLES = 24;

    @TempDir
    static Path work;
    private static TestGateway gateway;
    private static Path batchedDir;
    private static List<String> sentences;

    @BeforeAll
    static void packageAndServe() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        sentences = new ArrayList<>();
        for (String line : Files.readAllLines(ExportedModels.sentimentHeldout())) {
            if (!line.isBlank() && sentences.size() < EXAMPLES) {
                sentences.add(TestGateway.JSON.readTree(line).path("text").asText());
            }
        }
        Path reviews = initModel("reviews", "");
        Cli.Result packaged = Cli.run("package", reviews.toString(), "--output", plugins.resolve("reviews.jar").toString());
        assertThat(packaged.exit()).as(packaged.out() + packaged.err()).isZero();
        StringBuilder batching = new StringBuilder("batching:\n  max_texts: 8\n  examples:\n");
        for (String sentence : sentences) {
            batching.append("    - ").append(TestGateway.JSON.writeValueAsString(sentence)).append('\n');
        }
        batchedDir = initModel("reviews-batched", batching.toString());
        // the jar package would write, without its checks: the gateway must refuse it on its own
        PluginJars jar = PluginJars.plugin("reviews-batched").yaml(Files.readString(batchedDir.resolve("mlserver.yaml")));
        for (String file : List.of("model.onnx", "tokenizer.json", "config.json")) {
            if (Files.exists(batchedDir.resolve(file))) {
                jar.entry("artifacts/" + file, Files.readAllBytes(batchedDir.resolve(file)));
            }
        }
        jar.writeTo(plugins, "reviews-batched.jar");
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        gateway = TestGateway.start(plugins, "plugins:\n  watch: false\n");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void aCardAskingForBatchingOfABatchDependentModelIsRefusedAtLoadWithOneLine() {
        PluginStatus status = gateway.gateway().registry().statuses().stream()
                .filter(s -> s.jar().equals("reviews-batched.jar")).findFirst().orElseThrow();
        assertThat(status.state()).isEqualTo(PluginStatus.State.FAILED);
        assertThat(status.reason())
                .contains("batching: refused, batched answers differ from one-at-a-time answers on ")
                .contains("remove 'batching:' to run one text per call").doesNotContain("\n");
        assertThat(gateway.post("/reviews-batched/predict", "{\"payload\": {\"text\": \"fine\"}}").statusCode()).isEqualTo(404);
    }

    @Test
    void theSameModelWithoutBatchingAndTheOtherClassifiersKeepServing() {
        assertThat(gateway.post("/reviews/predict", "{\"payload\": {\"text\": \"I loved it\"}}").statusCode()).isEqualTo(200);
        assertThat(gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}").statusCode()).isEqualTo(200);
        assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
    }

    @Test
    void validateAndPackageGiveTheSameRefusal() {
        Cli.Result validated = Cli.run("validate", batchedDir.toString());
        assertThat(validated.exit()).as(validated.out()).isEqualTo(1);
        assertThat(validated.out()).contains("batching: refused, batched answers differ");
        Cli.Result packaged = Cli.run("package", batchedDir.toString(), "--output", work.resolve("refused.jar").toString());
        assertThat(packaged.exit()).as(packaged.out()).isEqualTo(1);
        assertThat(packaged.out() + packaged.err()).contains("batching: refused, batched answers differ");
        assertThat(work.resolve("refused.jar")).doesNotExist();
    }

    @Test
    void aJsonBatchGetsTheProbabilitiesOfEachTextAlone() {
        ArrayNode batch = JsonNodeFactory.instance.arrayNode();
        sentences.forEach(s -> batch.addObject().put("text", s));
        JsonNode together = TestGateway.json(gateway.post("/reviews/predict_proba",
                JsonNodeFactory.instance.objectNode().set("payload", batch).toString())).path("predictions");
        assertThat(together).hasSize(sentences.size());
        for (int i = 0; i < sentences.size(); i++) {
            JsonNode alone = TestGateway.json(gateway.post("/reviews/predict_proba",
                    JsonNodeFactory.instance.objectNode().set("payload", batch.get(i)).toString())).path("predictions").get(0);
            assertThat(together.get(i)).as("sentence %d", i).isEqualTo(alone);
        }
    }

    @Test
    void aV2BatchOfBytesGetsTheProbabilitiesOfEachTextAlone() throws Exception {
        JsonNode together = TestGateway.json(gateway.post("/v2/models/reviews/infer", infer(sentences)));
        JsonNode rows = probabilities(together);
        assertThat(rows.size()).isEqualTo(sentences.size() * 2);
        for (int i = 0; i < sentences.size(); i++) {
            JsonNode alone = probabilities(TestGateway.json(gateway.post("/v2/models/reviews/infer",
                    infer(List.of(sentences.get(i))))));
            assertThat(List.of(rows.get(2 * i), rows.get(2 * i + 1))).as("sentence %d", i)
                    .containsExactly(alone.get(0), alone.get(1));
        }
    }

    private static String infer(List<String> texts) throws Exception {
        return "{\"inputs\": [{\"name\": \"text\", \"shape\": [" + texts.size() + "], \"datatype\": \"BYTES\", \"data\": "
                + TestGateway.JSON.writeValueAsString(texts) + "}]}";
    }

    private static JsonNode probabilities(JsonNode response) {
        for (JsonNode output : response.path("outputs")) {
            if (output.path("name").asText().equals("probabilities")) {
                return output.path("data");
            }
        }
        throw new AssertionError("no probabilities output in " + response);
    }

    /** The sentiment-logits export as {@code ml_server init --from-model} leaves it, {@code extra} appended to its card. */
    private static Path initModel(String name, String extra) throws Exception {
        Path dir = work.resolve(name);
        Path model = ExportedModels.dir("sentiment-logits");
        Cli.Result init = Cli.run("init", dir.toString(), "--from-model", model.resolve("model.onnx").toString(),
                "--tokenizer", model.resolve("tokenizer.json").toString());
        assertThat(init.exit()).as(init.out() + init.err()).isZero();
        if (!extra.isEmpty()) {
            Files.writeString(dir.resolve("mlserver.yaml"), Files.readString(dir.resolve("mlserver.yaml")) + extra);
        }
        return dir;
    }
}
