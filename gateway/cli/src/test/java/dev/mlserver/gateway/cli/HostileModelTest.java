package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.ExportedModels;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models the generic classifier must refuse: {@code ml_server validate} names the reason and the
 * key to change, and the gateway refuses the packaged jar at load with a one-line reason while a
 * good model beside it keeps serving.
 */
class HostileModelTest {
    private static final String IRIS_LABELS = "labels: [setosa, versicolor, virginica]\n";

    @TempDir
    static Path work;
    private static TestGateway gateway;

    @BeforeAll
    static void serveGoodAndHostileJarsTogether() throws IOException {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Path good = work.resolve("good");
        Cli.Result init = Cli.run("init", good.toString(), "--from-model",
                ExportedModels.dir("iris-zipmap").resolve("model.onnx").toString(), "--name", "good");
        assertThat(init.exit()).as(init.out() + init.err()).isZero();
        Cli.Result packaged = Cli.run("package", good.toString(), "--output", plugins.resolve("good.jar").toString());
        assertThat(packaged.exit()).as(packaged.out() + packaged.err()).isZero();
        jar(plugins, "rank", "hostile-rank", "");
        jar(plugins, "half-precision", "hostile-float16", "");
        jar(plugins, "regressor", "hostile-regressor", "");
        jar(plugins, "two-labels", "iris-zipmap", "labels: [setosa, other]\n");
        jar(plugins, "fails-at-run", "hostile-runtime", "");
        jar(plugins, "bad-tokenizer", "hostile-tokenizer", "");
        gateway = TestGateway.start(plugins, "plugins:\n  watch: false\n");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void anInputOfRankThreeIsRefused() {
        assertRefused("rank", "hostile-rank", "", "model", "has rank 3");
    }

    @Test
    void aFloat16InputIsRefused() {
        assertRefused("half-precision", "hostile-float16", "", "model", "unsupported element type");
    }

    @Test
    void anOutputThatIsNoClassifiersIsRefused() {
        assertRefused("regressor", "hostile-regressor", "", "output", "no output gives class probabilities");
    }

    @Test
    void labelsThatDoNotCountTheClassesAreRefused() {
        assertRefused("two-labels", "iris-zipmap", "labels: [setosa, other]\n", "labels", "gives 3 classes");
    }

    @Test
    void aModelThatFailsInsideOnnxRuntimeIsRefused() {
        assertRefused("fails-at-run", "hostile-runtime", "", "example", "failed");
    }

    @Test
    void aTokenizerJsonThatIsNotOneIsRefused() {
        assertRefused("bad-tokenizer", "hostile-tokenizer", IRIS_LABELS.replace("setosa, versicolor, virginica",
                "negative, positive"), "tokenizer", "is not a HuggingFace tokenizer.json");
    }

    @Test
    void theGoodModelKeepsServingBesideTheRefusedOnes() {
        HttpResponse<String> answer = gateway.post("/good/predict", "{\"payload\": [5.9, 3.0, 5.1, 1.8]}");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(TestGateway.json(answer).path("predictions").get(0).asText()).isEqualTo("virginica");
        assertThat(gateway.post("/rank/predict", "{\"payload\": [1, 2, 3, 4]}").statusCode()).isEqualTo(404);
    }

    private static void assertRefused(String name, String model, String yaml, String key, String reason) {
        Path dir = modelDir(name, model, yaml);
        Cli.Result validated = Cli.run("validate", dir.toString());
        assertThat(validated.exit()).as(validated.out()).isEqualTo(1);
        assertThat(validated.out()).contains("mlserver.yaml: " + key + ": ").contains(reason);

        PluginStatus status = gateway.gateway().registry().statuses().stream()
                .filter(s -> s.jar().equals(name + ".jar")).findFirst().orElseThrow();
        assertThat(status.state()).isEqualTo(PluginStatus.State.FAILED);
        assertThat(status.reason()).contains(reason).doesNotContain("\n");
        assertThat(gateway.post("/good/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}").statusCode()).isEqualTo(200);
    }

    /** A model-only directory as init would leave it, with a hand-written card. */
    private static Path modelDir(String name, String model, String yaml) {
        try {
            Path dir = Files.createDirectories(work.resolve("dirs").resolve(name));
            Path source = ExportedModels.dir(model);
            for (String file : List.of("model.onnx", "tokenizer.json", "config.json")) {
                if (Files.exists(source.resolve(file)) && !Files.exists(dir.resolve(file))) {
                    Files.copy(source.resolve(file), dir.resolve(file));
                }
            }
            Files.writeString(dir.resolve("mlserver.yaml"), "name: " + name + "\nversion: 1.0.0\n" + yaml);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The jar ml_server package would write, but without its checks: the gateway must refuse it alone. */
    private static void jar(Path plugins, String name, String model, String yaml) throws IOException {
        Path source = ExportedModels.dir(model);
        PluginJars jar = PluginJars.plugin(name).yaml("name: " + name + "\n" + yaml);
        for (String file : List.of("model.onnx", "tokenizer.json", "config.json")) {
            if (Files.exists(source.resolve(file))) {
                jar.entry("artifacts/" + file, Files.readAllBytes(source.resolve(file)));
            }
        }
        jar.writeTo(plugins, name + ".jar");
    }
}
