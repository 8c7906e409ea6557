package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner that ReleaseWorkflowTest runs the CI workflow with: it passes what passes, and fails what fails. */
class LocalWorkflowRunnerTest {
    @TempDir
    Path dir;

    @Test
    void outputsEnvAndPathOfAStepReachTheStepsAfterIt() throws Exception {
        Path repo = repository("""
                env:
                  GREETING: ${{ vars.GREETING || 'hello' }}
                jobs:
                  one:
                    steps:
                      - uses: actions/checkout@v4
                        with:
                          ref: ${{ github.ref }}
                          fetch-depth: 0
                      - id: first
                        run: |
                          echo "word=$GREETING" >> "$GITHUB_OUTPUT"
                          echo "LATER=set" >> "$GITHUB_ENV"
                          mkdir -p "$HOME/bin" && printf '#!/bin/sh\\necho tool ran\\n' > "$HOME/bin/tool" && chmod +x "$HOME/bin/tool"
                          echo "$HOME/bin" >> "$GITHUB_PATH"
                      - name: second
                        if: steps.first.outputs.word != ''
                        env:
                          WORD: ${{ steps.first.outputs.word }}
                        run: echo "$WORD $LATER $(tool) $(cat marker.txt)"
                      - name: never
                        if: steps.first.outputs.word == ''
                        run: exit 1
                """);
        List<LocalWorkflowRunner.StepRun> runs = run(repo, Map.of());

        assertThat(runs.get(2).output()).isEqualTo("hello set tool ran checked out\n");
        assertThat(runs.get(3).ran()).isFalse();
    }

    @Test
    void aFailingStepFailsTheRunWithItsOutput() throws Exception {
        Path repo = repository("""
                jobs:
                  one:
                    steps:
                      - name: fine
                        run: echo fine
                      - name: broken
                        run: |
                          echo "about to fail"
                          false
                          echo "not reached"
                      - name: after
                        run: echo after
                """);
        assertThatThrownBy(() -> run(repo, Map.of())).isInstanceOf(AssertionError.class)
                .hasMessageContaining("step 'broken'").hasMessageContaining("about to fail").hasMessageNotContaining("not reached");
    }

    @Test
    void anActionWithNoLocalEquivalentFailsTheRun() throws Exception {
        Path repo = repository("""
                jobs:
                  one:
                    steps:
                      - uses: actions/upload-artifact@v4
                        with:
                          path: target
                """);
        assertThatThrownBy(() -> run(repo, Map.of())).isInstanceOf(AssertionError.class)
                .hasMessageContaining("no local equivalent of the action actions/upload-artifact@v4");
    }

    @Test
    void anExpressionItCannotEvaluateFailsTheRun() throws Exception {
        Path repo = repository("""
                jobs:
                  one:
                    steps:
                      - run: echo ${{ hashFiles('**/pom.xml') }}
                """);
        assertThatThrownBy(() -> run(repo, Map.of())).isInstanceOf(AssertionError.class)
                .hasMessageContaining("cannot evaluate");
    }

    private List<LocalWorkflowRunner.StepRun> run(Path repo, Map<String, String> vars) throws Exception {
        return LocalWorkflowRunner.create(dir.resolve("runner")).run(repo, "workflow.yml", "one",
                LocalWorkflowRunner.Event.tagPush("v1"), vars, Map.of());
    }

    /** A git repository with this workflow and a marker file, tagged v1. */
    private Path repository(String workflow) throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.writeString(repo.resolve("workflow.yml"), workflow);
        Files.writeString(repo.resolve("marker.txt"), "checked out");
        try (Git git = Git.init().setDirectory(repo.toFile()).call()) {
            git.add().addFilepattern(".").call();
            PersonIdent me = new PersonIdent("Runner Test", "runner@example.org");
            git.commit().setMessage("workflow").setAuthor(me).setCommitter(me).call();
            git.tag().setName("v1").setAnnotated(false).call();
        }
        return repo;
    }
}
