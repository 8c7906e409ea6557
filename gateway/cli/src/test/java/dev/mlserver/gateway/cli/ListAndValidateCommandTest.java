package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.testing.Cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ml_server list} and {@code ml_server validate} on sources and on real plugin jars. */
class ListAndValidateCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path init(String name) {
        Path repo = dir.resolve(name);
        Cli.Result run = Cli.run("init", repo);
        assertThat(run.exit()).as(run.toString()).isZero();
        return repo;
    }

    @Test
    void listShowsARepositorysClassifiersWithTagAndCommit() throws Exception {
        Path repo = init("iris-repo");
        Cli.Result run = Cli.run("list", repo, "--json");
        assertThat(run.exit()).as(run.toString()).isZero();
        JsonNode row = JSON.readTree(run.out()).get(0);
        assertThat(row.get("classifier").asText()).isEqualTo("iris-repo");
        assertThat(row.get("version").asText()).isEqualTo("0.1.0");
        assertThat(row.get("git_tag").asText()).isEqualTo("iris-repo-v0.1.0");
        try (Git git = Git.open(repo.toFile())) {
            assertThat(row.get("git_commit").asText()).isEqualTo(git.getRepository().resolve("HEAD").abbreviate(7).name());
        }
    }

    @Test
    void listShowsAPluginsDirectoryFromTheJarsManifests() throws Exception {
        Path plugins = TestGateway.examplePlugins();
        Cli.Result run = Cli.run("list", plugins, "--json");
        assertThat(run.exit()).as(run.toString()).isZero();
        JsonNode iris = null;
        for (JsonNode row : JSON.readTree(run.out())) {
            if (row.get("classifier").asText().equals("iris")) {
                iris = row;
            }
        }
        assertThat(iris).isNotNull();
        try (JarFile jar = new JarFile(plugins.resolve("iris.jar").toFile())) {
            assertThat(iris.get("version").asText()).isEqualTo(jar.getManifest().getMainAttributes().getValue("Plugin-Version"));
        }
    }

    @Test
    void validateAcceptsAFreshScaffoldFromSource() {
        Path repo = init("fresh");
        Cli.Result run = Cli.run("validate", repo);
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("ok: 1 checked");
    }

    @Test
    void validatePrintsEveryProblemWithItsFileAndKey() throws Exception {
        Path repo = init("broken");
        Files.writeString(repo.resolve("mlserver.yaml"), String.join("\n",
                "name: health",
                "version: 1.2.3",
                "trained_at: yesterday",
                "model_metrics: {accuracy: high}",
                "labels: [a, a]",
                "limits: {max_queue: -1}",
                ""), StandardCharsets.UTF_8);
        Files.write(repo.resolve("artifacts/model.onnx"), "not a model".getBytes(StandardCharsets.UTF_8));
        Cli.Result run = Cli.run("validate", repo.resolve("mlserver.yaml"));
        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        String yaml = repo.resolve("mlserver.yaml").toString();
        assertThat(run.out())
                .contains(yaml + ": name: 'health' is reserved")
                .contains(yaml + ": name: is 'health' but the plugin id is 'broken'")
                .contains(yaml + ": version: a classifier's version lives in exactly one place, pom.xml <version>")
                .contains(yaml + ": trained_at: must be an ISO-8601 time")
                .contains(yaml + ": model_metrics.accuracy: must be a number")
                .contains(yaml + ": labels: label 'a' is listed twice")
                .contains(yaml + ": limits: max_queue must be 0 or more")
                .contains("model.onnx: ONNX Runtime cannot open it")
                .contains("FAILED");
    }

    @Test
    void validateJsonReportsAJarWithoutPluginVersion() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        PluginJars.plugin("fixture").version("").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
        Cli.Result run = Cli.run("validate", plugins, "--json");
        assertThat(run.exit()).isEqualTo(1);
        JsonNode report = JSON.readTree(run.out());
        assertThat(report.get("ok").asBoolean()).isFalse();
        assertThat(report.get("problems")).anySatisfy(p -> {
            assertThat(p.get("severity").asText()).isEqualTo("error");
            assertThat(p.get("file").asText()).endsWith("fixture.jar!META-INF/MANIFEST.MF");
            assertThat(p.get("key").asText()).isEqualTo("Plugin-Version");
        });
    }

    @Test
    void validateLoadsAndWarmsAJarForRealAndReportsWhyItCannotServe() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        PluginJars.plugin("fixture").classifier(FixtureClassifier.class).yaml("fail: warmup\n").writeTo(plugins, "fixture.jar");
        Cli.Result run = Cli.run("validate", plugins.resolve("fixture.jar"));
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).contains("fixture.jar: the gateway cannot serve it: warm-up prediction on the example failed");
    }

    @Test
    void validateAcceptsTheExamplePluginJars() {
        Cli.Result run = Cli.run("validate", TestGateway.examplePlugins().resolve("iris.jar"));
        assertThat(run.exit()).as(run.toString()).isZero();
    }
}
