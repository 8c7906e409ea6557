package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.testing.Cli;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ml_server bump} on real git repositories made by {@code ml_server init}. */
class BumpCommandTest {
    @TempDir
    Path dir;

    private Path init(String... extra) {
        Path repo = dir.resolve("repo");
        List<Object> args = new java.util.ArrayList<>(List.of("init", repo, "--classifier", "iris"));
        args.addAll(List.of(extra));
        Cli.Result run = Cli.run(args.toArray());
        assertThat(run.exit()).as(run.toString()).isZero();
        return repo;
    }

    private static List<String> tags(Path repo) throws Exception {
        try (Git git = Git.open(repo.toFile())) {
            return git.tagList().call().stream().map(r -> r.getName().substring("refs/tags/".length())).sorted().toList();
        }
    }

    private static int commits(Path repo) throws Exception {
        try (Git git = Git.open(repo.toFile())) {
            int n = 0;
            for (var ignored : git.log().call()) {
                n++;
            }
            return n;
        }
    }

    @Test
    void patchEditsTheModuleVersionCommitsItAloneAndCreatesAnAnnotatedTag() throws Exception {
        Path repo = init();
        Cli.Result run = Cli.run("bump", "iris", "patch", "--repo", repo);
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(repo.resolve("pom.xml")).content().contains("<version>0.1.1</version>").doesNotContain("<version>0.1.0</version>");
        assertThat(tags(repo)).containsExactly("iris-v0.1.0", "iris-v0.1.1");
        try (Git git = Git.open(repo.toFile())) {
            var ref = git.getRepository().exactRef("refs/tags/iris-v0.1.1");
            assertThat(git.getRepository().getRefDatabase().peel(ref).getPeeledObjectId())
                    .as("annotated tags peel to their commit").isEqualTo(git.getRepository().resolve("HEAD"));
            assertThat(git.log().setMaxCount(1).call().iterator().next().getFullMessage()).isEqualTo("iris: version 0.1.1");
            assertThat(git.status().call().isClean()).isTrue();
        }
    }

    @Test
    void pathTagFormatTagsUnderClassifiers() throws Exception {
        Path repo = init("--tag-format", "path");
        assertThat(repo.resolve("mlserver-repo.yaml")).content().contains("format: \"classifiers/{classifier}/v{version}\"");
        Cli.Result run = Cli.run("bump", "iris", "major", "--repo", repo);
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(tags(repo)).containsExactly("classifiers/iris/v0.1.0", "classifiers/iris/v1.0.0");
    }

    @Test
    void aDirtyTreeIsRefusedAndNothingChanges() throws Exception {
        Path repo = init();
        Files.writeString(repo.resolve("mlserver.yaml"), "\n# local edit\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        Cli.Result run = Cli.run("bump", "iris", "minor", "--repo", repo);
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("uncommitted changes").contains("modified: mlserver.yaml");
        assertThat(repo.resolve("pom.xml")).content().contains("<version>0.1.0</version>");
        assertThat(tags(repo)).containsExactly("iris-v0.1.0");
        assertThat(commits(repo)).isEqualTo(1);
    }

    @Test
    void anExistingTagIsRefusedAndNothingChanges() throws Exception {
        Path repo = init();
        try (Git git = Git.open(repo.toFile())) {
            git.tag().setName("iris/v0.2.0").setAnnotated(false).call(); // the legacy spelling counts too
        }
        Cli.Result run = Cli.run("bump", "iris", "minor", "--repo", repo);
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("tag iris/v0.2.0 already names iris 0.2.0");
        assertThat(repo.resolve("pom.xml")).content().contains("<version>0.1.0</version>");
        assertThat(commits(repo)).isEqualTo(1);
    }

    @Test
    void dryRunSaysWhatWouldHappenAndChangesNothing() throws Exception {
        Path repo = init();
        Cli.Result run = Cli.run("bump", "iris", "minor", "--dry-run", "--repo", repo);
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("0.1.0 -> 0.2.0 (dry run").contains("tag iris-v0.2.0");
        assertThat(repo.resolve("pom.xml")).content().contains("<version>0.1.0</version>");
        assertThat(tags(repo)).containsExactly("iris-v0.1.0");
    }

    @Test
    void anUnknownClassifierIsAProblemNamingTheOnesThereAre() {
        Path repo = init();
        Cli.Result run = Cli.run("bump", "wine", "minor", "--repo", repo);
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("no classifier 'wine'").contains("there are: iris");
    }

    @Test
    void anUnknownPartIsAUsageError() {
        Path repo = init();
        Cli.Result run = Cli.run("bump", "iris", "huge", "--repo", repo);
        assertThat(run.exit()).isEqualTo(2);
    }
}
