package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.cli.deploy.CiWorkflow;
import dev.mlserver.gateway.repo.Repository;
import dev.mlserver.gateway.testing.Cli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** {@code ml_server ci}: the workflow's triggers and choices, and its classifier-picking step run in bash. */
class CiWorkflowTest {
    static final Path ROOT = KubernetesManifestsTest.ROOT;

    @Test
    void workflowRunsOnHierarchicalTagsAndByHandWithAClassifierChoice(@TempDir Path repo) throws IOException {
        KubernetesManifestsTest.module(repo, "classifiers/sentiment", "2.3.1");
        KubernetesManifestsTest.module(repo, "classifiers/intent", "1.0.0");
        Cli.Result result = Cli.run("ci", "--repo", repo.toString(), "-o", "-");
        assertThat(result.exit()).as(result.err()).isZero();

        Map<String, Object> workflow = yaml(result.out());
        Map<String, Object> on = map(workflow.get("on"));
        assertThat(map(on.get("push")).get("tags")).isEqualTo(List.of("*-v*", "classifiers/*/v*"));
        Map<String, Object> classifier = map(map(map(on.get("workflow_dispatch")).get("inputs")).get("classifier"));
        assertThat(classifier.get("type")).isEqualTo("choice");
        assertThat(classifier.get("options")).isEqualTo(List.of("intent", "sentiment"));
        String steps = String.valueOf(map(map(workflow.get("jobs")).get("build-deploy")).get("steps"));
        assertThat(steps).contains("ml_server build --classifier-path", "ml_server push --registry");
    }

    @Test
    void aClassifierRepositoryBuildsMlServerFromThePinnedSourceNotFromAMavenRepository(@TempDir Path repo) throws IOException {
        KubernetesManifestsTest.module(repo, "classifiers/sentiment", "2.3.1");
        Cli.Result result = Cli.run("ci", "--repo", repo.toString(), "-o", "-",
                "--mlserver-source", "https://git.example.org/ml/mlserver.git", "--mlserver-ref", "v0.1.0");
        assertThat(result.exit()).as(result.err()).isZero();

        Map<String, Object> env = map(yaml(result.out()).get("env"));
        assertThat(env.get("MLSERVER_SOURCE")).isEqualTo("${{ vars.MLSERVER_SOURCE || 'https://git.example.org/ml/mlserver.git' }}");
        assertThat(env.get("MLSERVER_REF")).isEqualTo("${{ vars.MLSERVER_REF || 'v0.1.0' }}");
        assertThat(result.out()).contains("git clone --quiet --no-checkout \"${MLSERVER_SOURCE}\"")
                .doesNotContain("dependency:copy", "dev.mlserver:gateway");
    }

    @Test
    void aSourceThatCannotBeWrittenIntoAWorkflowIsOneLineAndExit1(@TempDir Path repo) throws IOException {
        KubernetesManifestsTest.module(repo, "classifiers/sentiment", "2.3.1");
        Cli.Result result = Cli.run("ci", "--repo", repo.toString(), "-o", "-", "--mlserver-ref", "main' }}");

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err().strip()).startsWith("ml_server: --mlserver-ref").doesNotContain("\n");
    }

    @Test
    void pickStepReadsTheClassifierAndVersionFromEitherTagFormat(@TempDir Path repo) throws Exception {
        KubernetesManifestsTest.module(repo, "classifiers/sentiment", "2.3.1");
        KubernetesManifestsTest.module(repo, "plugins/iris", "1.0.0");

        assertThat(pick(repo, Map.of("EVENT", "push", "REF_NAME", "classifiers/sentiment/v2.3.1")))
                .contains("classifier=sentiment", "path=classifiers/sentiment", "version=2.3.1");
        assertThat(pick(repo, Map.of("EVENT", "push", "REF_NAME", "iris-v1.0.0")))
                .contains("classifier=iris", "path=plugins/iris", "version=1.0.0");
        assertThat(pick(repo, Map.of("EVENT", "workflow_dispatch", "CHOSEN", "iris", "CHOSEN_TAG", "", "REF_NAME", "main")))
                .contains("classifier=iris", "version=");
    }

    @Test
    void pickStepFailsOnATagThatNamesNoClassifierModule(@TempDir Path repo) throws Exception {
        KubernetesManifestsTest.module(repo, "plugins/iris", "1.0.0");

        assertThat(pick(repo, Map.of("EVENT", "push", "REF_NAME", "release-2024"))).startsWith("exit 1");
        assertThat(pick(repo, Map.of("EVENT", "push", "REF_NAME", "spam-v1.0.0"))).startsWith("exit 1");
        assertThat(pick(repo, Map.of("EVENT", "workflow_dispatch", "CHOSEN", "iris", "CHOSEN_TAG", "spam-v1.0.0",
                "REF_NAME", "main"))).startsWith("exit 1");
    }

    @Test
    void committedWorkflowIsWhatTheGeneratorWrites() {
        Cli.Result result = Cli.run("ci", "--repo", ROOT.toString(), "-o", "-");

        assertThat(result.exit()).isZero();
        assertThat(ROOT.resolve("docker/ci/build-deploy.yml")).as("regenerate with ml_server ci -o docker/ci/build-deploy.yml")
                .hasContent(result.out());
    }

    /** Runs the step's script with bash in {@code repo}; returns GITHUB_OUTPUT, or {@code exit N ...}. */
    private static String pick(Path repo, Map<String, String> env) throws Exception {
        Path output = Files.createTempFile(repo, "github-output", ".txt");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", CiWorkflow.pick(Repository.open(repo).classifiers())).directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("GITHUB_OUTPUT", output.toString());
        Process process = pb.start();
        String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return process.exitValue() == 0 ? Files.readString(output) : "exit " + process.exitValue() + " " + printed;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    private static Map<String, Object> yaml(String text) {
        Map<?, ?> doc = (Map<?, ?>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        Map<String, Object> out = new LinkedHashMap<>();
        // YAML 1.1 (SnakeYAML) reads the bare key `on` as the boolean true; GitHub reads it as "on"
        doc.forEach((k, v) -> out.put(Boolean.TRUE.equals(k) ? "on" : String.valueOf(k), v));
        return out;
    }
}
