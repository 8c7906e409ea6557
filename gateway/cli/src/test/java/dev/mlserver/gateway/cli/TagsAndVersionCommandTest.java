package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.testing.Cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
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
}
