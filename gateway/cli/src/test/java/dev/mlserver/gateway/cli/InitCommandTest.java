package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.testing.Cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ml_server init}: layouts, the plugin API it carries, and what it refuses. */
class InitCommandTest {
    @TempDir
    Path dir;

    @Test
    void oneClassifierGivesTheSingleLayoutThatBuildsAndServes() throws Exception {
        Maven.assumeAvailable();
        Path repo = dir.resolve("flowers");
        Cli.Result run = Cli.run("init", repo, "--classifier", "iris", "--group-id", "com.acme.ml");
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(repo.resolve("src/main/java/com/acme/ml/iris/IrisClassifier.java")).content().contains("@Extension");
        assertThat(repo.resolve("classifiers")).doesNotExist();
        assertThat(repo.resolve("shared")).doesNotExist();

        Maven.run(repo, "package");
        try (TestGateway gateway = TestGateway.start(repo.resolve("target/plugins"))) {
            var response = gateway.post("/iris/predict", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode body = TestGateway.json(response);
            assertThat(body.get("predictions").get(0).asText()).isEqualTo("virginica");
            assertThat(body.at("/metadata/git_tag").asText()).isEqualTo("iris-v0.1.0");
            assertThat(body.at("/metadata/repository").asText()).isEqualTo("flowers");
        }
    }

    @Test
    void thePluginApiIsWrittenAsAFileBasedMavenRepository() throws Exception {
        Path repo = dir.resolve("r");
        assertThat(Cli.run("init", repo, "--classifier", "a", "--classifier", "b").exit()).isZero();
        Path api = repo.resolve("lib/maven/dev/mlserver/plugin-api/0.1.0");
        assertThat(api.resolve("plugin-api-0.1.0.pom")).content().contains("<artifactId>onnxruntime</artifactId>");
        try (JarFile jar = new JarFile(api.resolve("plugin-api-0.1.0.jar").toFile())) {
            assertThat(jar.getEntry("dev/mlserver/api/Classifier.class")).isNotNull();
            assertThat(jar.getEntry("dev/mlserver/api/onnx/OnnxModel.class")).isNotNull();
        }
        assertThat(repo.resolve("pom.xml")).content().contains("<module>classifiers/a</module>")
                .contains("file://${maven.multiModuleProjectDirectory}/lib/maven");
    }

    @Test
    void aReservedClassifierNameIsAUsageError() {
        Cli.Result run = Cli.run("init", dir.resolve("r"), "--classifier", "metrics");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("reserved");
        assertThat(dir.resolve("r")).doesNotExist();
    }

    @Test
    void anInvalidClassifierNameIsAUsageError() {
        Cli.Result run = Cli.run("init", dir.resolve("r"), "--classifier", "Sentiment_Analyzer");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("invalid classifier name");
    }

    @Test
    void aNonEmptyDirectoryIsRefused() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(repo.resolve("notes.txt"), "mine");
        Cli.Result run = Cli.run("init", repo, "--classifier", "iris");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("is not empty");
        assertThat(repo.resolve("pom.xml")).doesNotExist();
    }

    @Test
    void everyCommandHasHelpWithAnExample() {
        for (String command : new String[] {"init", "serve", "validate", "list", "version", "bump", "tags"}) {
            Cli.Result run = Cli.run(command, "--help");
            assertThat(run.exit()).as(command).isZero();
            assertThat(run.out()).as(command).contains("Example").contains("ml_server " + (command.equals("serve") ? "" : command));
        }
    }
}
