package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
import java.util.jar.JarFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scikit-learn and tree-ensemble journeys: a model.onnx on disk, {@code ml_server init
 * --from-model}, {@code ml_server package}, served by the generic classifier beside the example
 * plugins; the answers on held-out rows are scikit-learn's own.
 */
class BringYourOwnModelTest {
    private static final double PROBABILITY_TOLERANCE = 1e-4;
    /** Instances per request, within the gateway's default max_batch. */
    private static final int BATCH = 50;

    @TempDir
    static Path work;
    private static TestGateway gateway;

    @BeforeAll
    static void packageAndServe() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        journey("iris", "iris-zipmap", plugins);
        journey("wine", "wine-trees", plugins);
        journey("cancer", "cancer-tensors", plugins, "--labels", "malignant,benign");
        journey("wine-columns", "wine-columns", plugins, "--labels", "class_0,class_1,class_2");
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris-example.jar"));
        gateway = TestGateway.start(plugins, "plugins:\n  watch: false\n");
    }

    private static void journey(String name, String model, Path plugins, String... extra) {
        Path dir = work.resolve(name);
        List<String> init = new ArrayList<>(List.of("init", dir.toString(), "--from-model",
                ExportedModels.dir(model).resolve("model.onnx").toString(), "--name", name + "-byom"));
        init.addAll(List.of(extra));
        Cli.Result created = Cli.run(init.toArray(String[]::new));
        assertThat(created.exit()).as(created.out() + created.err()).isZero();
        Cli.Result validated = Cli.run("validate", dir.toString());
        assertThat(validated.exit()).as(validated.out() + validated.err()).isZero();
        Cli.Result packaged = Cli.run("package", dir.toString(), "--output", plugins.resolve(name + ".jar").toString());
        assertThat(packaged.exit()).as(packaged.out() + packaged.err()).isZero();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void linearClassifierWithZipMapAndStringLabelsAnswersAsScikitLearn() {
        assertHeldOutAnswers("iris-byom", "iris-zipmap", List.of());
    }

    @Test
    void treeEnsembleWithZipMapAndInt64LabelsAnswersAsScikitLearn() {
        assertHeldOutAnswers("wine-byom", "wine-trees", List.of());
    }

    @Test
    void labelAndProbabilityTensorsWithoutZipMapAnswerAsScikitLearn() {
        assertHeldOutAnswers("cancer-byom", "cancer-tensors", List.of("malignant", "benign"));
    }

    @Test
    void oneInputPerColumnOfMixedTypesAnswersAsScikitLearn() {
        assertHeldOutAnswers("wine-columns-byom", "wine-columns", List.of("class_0", "class_1", "class_2"));
    }

    @Test
    void initReadsLabelsAndFeatureNamesFromTheModel() throws Exception {
        String iris = Files.readString(work.resolve("iris/mlserver.yaml"));
        assertThat(iris).contains("labels: [\"setosa\", \"versicolor\", \"virginica\"]")
                .contains("feature_names: [\"f0\", \"f1\", \"f2\", \"f3\"]")
                .contains("{name: \"float_input\", type: \"float[?,4]\"}")
                .contains("{name: \"output_probability\", type: \"seq(map(string,float))\"}");
        String cancer = Files.readString(work.resolve("cancer/mlserver.yaml"));
        assertThat(cancer).contains("\"mean radius\"").contains("labels: [\"malignant\", \"benign\"]");
        JsonNode metadata = TestGateway.json(gateway.get("/wine-columns-byom"));
        assertThat(metadata.path("input_schema").toString()).contains("\"colour_band\":{\"type\":\"string\"}")
                .contains("\"magnesium\":{\"type\":\"integer\"}");
    }

    @Test
    void thePackagedJarCarriesTheManifestOfAMavenBuiltPlugin() throws Exception {
        try (JarFile jar = new JarFile(work.resolve("plugins/iris.jar").toFile())) {
            var main = jar.getManifest().getMainAttributes();
            assertThat(main.getValue("Plugin-Id")).isEqualTo("iris-byom");
            assertThat(main.getValue("Plugin-Version")).isEqualTo("0.1.0");
            for (String key : List.of("Plugin-Provider", "Plugin-Requires", "Git-Repository", "Build-Time")) {
                assertThat(main.getValue(key)).as(key).isNotBlank();
            }
            assertThat(jar.getEntry("artifacts/model.onnx")).isNotNull();
            assertThat(jar.getEntry("META-INF/extensions.idx")).as("no classes: the platform serves it").isNull();
        }
    }

    @Test
    void badInstancesGetA400NamingTheFeature() {
        HttpResponse<String> text = gateway.post("/wine-columns-byom/predict",
                "{\"payload\": {\"alcohol\": 13.1, \"malic_acid\": 1.9, \"magnesium\": 100.5, \"proline\": 900, \"colour_band\": \"dark\"}}");
        assertThat(text.statusCode()).isEqualTo(400);
        assertThat(text.body()).contains("magnesium").contains("whole number");
        HttpResponse<String> missing = gateway.post("/iris-byom/predict", "{\"payload\": [1, 2, 3]}");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(missing.body()).contains("expected 4 feature values");
    }

    @Test
    void theGenericClassifierServesBesideTheExamplePlugin() {
        HttpResponse<String> example = gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}");
        HttpResponse<String> generic = gateway.post("/iris-byom/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}");
        assertThat(example.statusCode()).isEqualTo(200);
        assertThat(generic.statusCode()).isEqualTo(200);
        assertThat(TestGateway.json(generic).path("predictions").get(0).asText()).isEqualTo("setosa");
    }

    private static void assertHeldOutAnswers(String classifier, String model, List<String> names) {
        JsonNode heldout = ExportedModels.heldout(model);
        List<String> classes = new ArrayList<>();
        heldout.path("classes").forEach(c -> classes.add(c.asText()));
        List<String> labels = names.isEmpty() ? classes : names;
        ArrayNode instances = JsonNodeFactory.instance.arrayNode();
        heldout.path("rows").forEach(r -> instances.add(r.path("instance")));
        assertThat(instances.size()).isGreaterThan(20);
        ArrayNode probabilities = JsonNodeFactory.instance.arrayNode();
        ArrayNode predicted = JsonNodeFactory.instance.arrayNode();
        for (int from = 0; from < instances.size(); from += BATCH) {
            ArrayNode batch = JsonNodeFactory.instance.arrayNode();
            for (int i = from; i < Math.min(from + BATCH, instances.size()); i++) {
                batch.add(instances.get(i));
            }
            JsonNode body = JsonNodeFactory.instance.objectNode().set("payload", batch);
            HttpResponse<String> proba = gateway.post("/" + classifier + "/predict_proba", body.toString());
            HttpResponse<String> predict = gateway.post("/" + classifier + "/predict", body.toString());
            assertThat(proba.statusCode()).as(proba.body()).isEqualTo(200);
            assertThat(predict.statusCode()).as(predict.body()).isEqualTo(200);
            probabilities.addAll((ArrayNode) TestGateway.json(proba).path("predictions"));
            predicted.addAll((ArrayNode) TestGateway.json(predict).path("predictions"));
        }
        for (int i = 0; i < instances.size(); i++) {
            JsonNode row = heldout.path("rows").get(i);
            String expected = labels.get(classes.indexOf(row.path("label").asText()));
            assertThat(predicted.get(i).asText()).as("row %d", i).isEqualTo(expected);
            for (int c = 0; c < classes.size(); c++) {
                assertThat(probabilities.get(i).path(labels.get(c)).asDouble())
                        .as("row %d class %s", i, labels.get(c))
                        .isCloseTo(row.path("probabilities").get(c).asDouble(), within(PROBABILITY_TOLERANCE));
            }
        }
    }
}
