package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.testing.Cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ml_server tags} and {@code ml_server version} over tags in every format. */
class TagsAndVersionCommandTest {
    @TempDir
    Path dir;
    Path repo;

    @BeforeEach
    void init() {
        repo = dir.resolve("repo");
        Cli.Result run = Cli.run("init", repo, "--classifier", "iris");
        assertThat(run.exit()).as(run.toString()).isZero();
    }

    private void tag(String... names) throws Exception {
        try (Git git = Git.open(repo.toFile())) {
            for (String name : names) {
                git.tag().setName(name).setAnnotated(false).call();
            }
        }
    }

    @Test
    void tagsReadsEveryFormatNewestFirstInSemanticVersionOrder() throws Exception {
        tag("iris/v1.9.0", "iris-v1.10.0", "classifiers/iris/v1.2.0", "iris-v2.0.0-rc.1", "wine-v3.0.0", "v9.9.9", "release");
        Cli.Result run = Cli.run("tags", "iris", "--repo", repo, "--json");
        assertThat(run.exit()).as(run.toString()).isZero();
        JsonNode tags = new ObjectMapper().readTree(run.out());
        assertThat(tags).extracting(t -> t.get("tag").asText()).containsExactly(
                "iris-v2.0.0-rc.1", "iris-v1.10.0", "iris/v1.9.0", "classifiers/iris/v1.2.0", "iris-v0.1.0");
        assertThat(tags.get(2).get("format").asText()).isEqualTo("{classifier}/v{version}");
    }

    @Test
    void tagsWithoutAClassifierListsEveryClassifier() throws Exception {
        tag("wine-v3.0.0");
        Cli.Result run = Cli.run("tags", "--repo", repo);
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("iris-v0.1.0").contains("wine-v3.0.0");
    }

    @Test
    void versionAgreesRightAfterInit() {
        Cli.Result run = Cli.run("version", "--repo", repo);
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).containsPattern("iris\\s+0\\.1\\.0\\s+0\\.1\\.0\\s+iris-v0\\.1\\.0\\s+agree");
    }

    @Test
    void versionSaysWhenTheTagsAreAheadOfTheSource() throws Exception {
        tag("iris-v0.3.0");
        Cli.Result run = Cli.run("version", "iris", "--repo", repo, "--json");
        assertThat(run.exit()).isEqualTo(1);
        JsonNode row = new ObjectMapper().readTree(run.out()).get(0);
        assertThat(row.get("source_version").asText()).isEqualTo("0.1.0");
        assertThat(row.get("tag_version").asText()).isEqualTo("0.3.0");
        assertThat(row.get("agree").asBoolean()).isFalse();
        assertThat(row.get("state").asText()).contains("newest tag is ahead");
    }

    private static void commit(Path repo, String message) throws Exception {
        try (Git git = Git.open(repo.toFile())) {
            git.add().addFilepattern(".").call();
            git.commit().setMessage(message).setSign(false).call();
        }
    }

    private static void append(Path file, String text) throws Exception {
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private JsonNode versionJson(Path repository, String classifier, int exit) throws Exception {
        Cli.Result run = Cli.run("version", classifier, "--repo", repository, "--json");
        assertThat(run.exit()).as(run.toString()).isEqualTo(exit);
        return new ObjectMapper().readTree(run.out()).get(0);
    }

    @Test
    void aModelCommittedAfterTheTagReadsAsTheVersionPlusItsCommitsAndFails() throws Exception {
        append(repo.resolve("artifacts/model.onnx"), "retrained");
        commit(repo, "retrain iris");
        append(repo.resolve("mlserver.yaml"), "\n# new metrics\n");
        commit(repo, "new metrics");

        JsonNode row = versionJson(repo, "iris", 1);
        assertThat(row.get("version").asText()).isEqualTo("0.1.0+2");
        assertThat(row.get("source_version").asText()).isEqualTo("0.1.0");
        assertThat(row.get("agree").asBoolean()).isFalse();
        assertThat(row.get("commits_since_tag").asInt()).isEqualTo(2);
        assertThat(row.get("changed_since_tag")).extracting(JsonNode::asText).containsExactly("artifacts/model.onnx", "mlserver.yaml");
        assertThat(row.get("state").asText()).isEqualTo("changed since the tag: 2 commits after iris-v0.1.0 changed "
                + "artifacts/model.onnx, mlserver.yaml; bump the version to release it");

        Cli.Result table = Cli.run("version", "--repo", repo);
        assertThat(table.exit()).isEqualTo(1);
        assertThat(table.out().lines().filter(l -> l.startsWith("iris")).toList()).singleElement().asString()
                .containsPattern("^iris\\s+0\\.1\\.0\\+2\\s+0\\.1\\.0\\s+iris-v0\\.1\\.0\\s+changed since the tag: ");
    }

    @Test
    void anUncommittedModelReadsAsDirtyAsTheBuildStampsIt() throws Exception {
        Files.writeString(repo.resolve("artifacts/tokenizer.json"), "{}");
        commit(repo, "tokenizer");
        assertThat(Cli.run("bump", "iris", "patch", "--repo", repo).exit()).isZero();
        Files.writeString(repo.resolve("artifacts/tokenizer.json"), "{\"version\": \"2.0\"}");

        JsonNode row = versionJson(repo, "iris", 1);
        assertThat(row.get("version").asText()).isEqualTo("0.1.1-dirty");
        assertThat(row.get("uncommitted")).extracting(JsonNode::asText).containsExactly("modified: artifacts/tokenizer.json");
        assertThat(row.get("changed_since_tag")).isEmpty();
        assertThat(row.get("state").asText()).isEqualTo("changed since the tag: not committed: modified "
                + "artifacts/tokenizer.json; commit, then bump the version to release it");
    }

    @Test
    void changesOutsideWhatMakesTheJarLeaveTheVersionAsTagged() throws Exception {
        append(repo.resolve("README.md"), "\nmore words\n");
        Files.createDirectories(repo.resolve("src/test/java"));
        Files.writeString(repo.resolve("src/test/java/Note.java"), "class Note {}\n");
        commit(repo, "docs and tests");
        append(repo.resolve("README.md"), "\nuncommitted words\n");
        // untracked files are not part of any commit, as for the build's Git-Dirty stamp
        Files.writeString(repo.resolve("artifacts/scratch.txt"), "notes");

        JsonNode row = versionJson(repo, "iris", 0);
        assertThat(row.get("version").asText()).isEqualTo("0.1.0");
        assertThat(row.get("state").asText()).isEqualTo("agree");
    }

    @Test
    void aChangeRevertedBeforeHeadIsNoChange() throws Exception {
        byte[] model = Files.readAllBytes(repo.resolve("artifacts/model.onnx"));
        append(repo.resolve("artifacts/model.onnx"), "experiment");
        commit(repo, "try a model");
        Files.write(repo.resolve("artifacts/model.onnx"), model);
        commit(repo, "back to the released model");

        assertThat(versionJson(repo, "iris", 0).get("state").asText()).isEqualTo("agree");
    }

    @Test
    void aSharedModuleChangeCountsForEveryClassifierThatBundlesIt() throws Exception {
        Path family = dir.resolve("family");
        Cli.Result init = Cli.run("init", family, "--classifier", "iris", "--classifier", "wine");
        assertThat(init.exit()).as(init.toString()).isZero();
        Path shared;
        try (var files = Files.walk(family.resolve("shared/src/main"))) {
            shared = files.filter(f -> f.toString().endsWith(".java")).findFirst().orElseThrow();
        }
        append(shared, "\n// a fix every classifier ships\n");
        commit(family, "shared fix");
        append(family.resolve("classifiers/wine/artifacts/model.onnx"), "retrained");
        commit(family, "retrain wine");

        JsonNode iris = versionJson(family, "iris", 1);
        assertThat(iris.get("version").asText()).isEqualTo("0.1.0+1");
        assertThat(iris.get("changed_since_tag")).extracting(JsonNode::asText)
                .containsExactly(family.relativize(shared).toString().replace('\\', '/'));
        JsonNode wine = versionJson(family, "wine", 1);
        assertThat(wine.get("version").asText()).isEqualTo("0.1.0+2");
        assertThat(wine.get("changed_since_tag")).extracting(JsonNode::asText).contains("classifiers/wine/artifacts/model.onnx");
    }
}
