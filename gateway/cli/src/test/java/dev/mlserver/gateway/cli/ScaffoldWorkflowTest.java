package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.testing.Cli;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.dev.DevServer;
import dev.mlserver.gateway.repo.RepoException;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.jar.JarFile;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's developer workflow on a real three-classifier repository: init, a real
 * {@code mvn package}, validate, the local serve loop, then bump and tags, and the rebuilt plugin
 * answering with its new version and tag. The repository is built once; the bump runs last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaffoldWorkflowTest {
    static final String TEXT = "{\"payload\": {\"text\": \"great value, works well\"}}";

    @TempDir
    static Path workspace;
    Path repo;
    Cli.Result init;

    @BeforeAll
    void initAndBuild() throws Exception {
        Maven.assumeAvailable();
        repo = workspace.resolve("reviews");
        init = Cli.run("init", repo, "--text", "--classifier", "sentiment", "--classifier", "spam", "--classifier", "topic");
        assertThat(init.exit()).as(init.toString()).isZero();
        Maven.run(repo, "package");
    }

    static GatewayConfig localConfig() {
        return ConfigLoader.create(Map.of()).fromYaml("server: {host: 127.0.0.1, port: 0}\ngrpc: {port: 0}", "test config");
    }

    @Test
    @Order(1)
    void initWritesTheMultiClassifierLayoutAndTagsEachClassifierAt010() throws Exception {
        for (String name : new String[] {"sentiment", "spam", "topic"}) {
            Path module = repo.resolve("classifiers").resolve(name);
            assertThat(module.resolve("pom.xml")).content().contains("<version>0.1.0</version>");
            assertThat(module.resolve("mlserver.yaml")).content().contains("name: " + name);
            assertThat(module.resolve("artifacts/model.onnx")).isNotEmptyFile();
            assertThat(module.resolve("src/main/java/org/example/reviews/" + name)).isDirectory();
        }
        assertThat(repo.resolve("shared/src/main/java/org/example/reviews/shared/OnnxTextClassifier.java")).exists();
        assertThat(repo.resolve("lib/maven/dev/mlserver/plugin-api/0.1.0/plugin-api-0.1.0.jar")).isNotEmptyFile();
        try (Git git = Git.open(repo.toFile())) {
            assertThat(git.tagList().call()).extracting(r -> r.getName().substring("refs/tags/".length()))
                    .containsExactlyInAnyOrder("sentiment-v0.1.0", "spam-v0.1.0", "topic-v0.1.0");
            assertThat(git.status().call().isClean()).isTrue();
        }
    }

    @Test
    @Order(2)
    void mvnPackagePublishesOnePluginJarPerClassifierStampedWithGit() throws Exception {
        for (String name : new String[] {"sentiment", "spam", "topic"}) {
            Path jar = repo.resolve("target/plugins/" + name + ".jar");
            assertThat(jar).isNotEmptyFile();
            try (JarFile file = new JarFile(jar.toFile())) {
                var a = file.getManifest().getMainAttributes();
                assertThat(a.getValue("Plugin-Id")).isEqualTo(name);
                assertThat(a.getValue("Plugin-Version")).isEqualTo("0.1.0");
                assertThat(a.getValue("Git-Tags")).contains(name + "-v0.1.0");
                assertThat(a.getValue("Git-Commit")).hasSize(7);
                assertThat(file.getEntry("artifacts/model.onnx")).isNotNull();
            }
        }
    }

    @Test
    @Order(3)
    void validateOpensEveryModuleAndBuiltJarAndExitsZero() {
        Cli.Result run = Cli.run("validate", repo);
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).contains("ok: 6 checked").contains("0 errors");
    }

    @Test
    @Order(4)
    void serveFromSourceAnswersThePredictRouteOfThatClassifier() {
        try (DevServer dev = DevServer.start(repo.resolve("classifiers/sentiment/mlserver.yaml"), localConfig(), false)) {
            TestGateway client = TestGateway.of(dev.gateway());
            var response = client.post("/sentiment/predict", TEXT);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode body = TestGateway.json(response);
            assertThat(body.get("predictions").get(0).asText()).isEqualTo("positive");
            assertThat(body.at("/metadata/classifier").asText()).isEqualTo("sentiment");
            assertThat(body.at("/metadata/version").asText()).isEqualTo("0.1.0");
            assertThat(body.at("/metadata/repository").asText()).isEqualTo("reviews");
            assertThat(client.get("/spam").statusCode()).isEqualTo(404);
        }
    }

    @Test
    @Order(5)
    void serveWithWatchReloadsWhenTheModuleChanges() throws Exception {
        Path pom = repo.resolve("classifiers/topic/pom.xml");
        String original = Files.readString(pom, StandardCharsets.UTF_8);
        try (DevServer dev = DevServer.start(repo.resolve("classifiers/topic"), localConfig(), true)) {
            TestGateway client = TestGateway.of(dev.gateway());
            assertThat(TestGateway.json(client.post("/topic/predict", TEXT)).at("/metadata/version").asText()).isEqualTo("0.1.0");
            Files.writeString(pom, original.replace("<version>0.1.0</version>", "<version>0.1.1</version>"), StandardCharsets.UTF_8);
            // polls every 500 ms and waits for two equal looks: a generous bound for 2 busy cores
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                    TestGateway.json(client.post("/topic/predict", TEXT)).at("/metadata/version").asText()).isEqualTo("0.1.1"));
        } finally {
            Files.writeString(pom, original, StandardCharsets.UTF_8);
        }
    }

    @Test
    @Order(6)
    void serveRefusesADirectoryThatIsNoClassifierModule() {
        assertThatThrownBy(() -> DevServer.start(repo.resolve("shared"), localConfig(), false))
                .isInstanceOf(RepoException.class).hasMessageContaining("not a classifier module");
    }

    @Test
    @Order(7)
    void bumpMinorTagsTheReleaseAndTheRebuiltPluginAnswersWithItsNewVersionAndTag() throws Exception {
        Path pom = repo.resolve("classifiers/spam/pom.xml");
        String before = Files.readString(pom, StandardCharsets.UTF_8);

        Cli.Result bump = Cli.run("bump", "spam", "minor", "--repo", repo);
        assertThat(bump.exit()).as(bump.toString()).isZero();
        assertThat(bump.out()).contains("spam: 0.1.0 -> 0.2.0").contains("tagged spam-v0.2.0");
        String after = Files.readString(pom, StandardCharsets.UTF_8);
        assertThat(after).isEqualTo(before.replace("<version>0.1.0</version>", "<version>0.2.0</version>"));
        assertThat(after).contains("<version>1.0.0</version>"); // the parent's, untouched
        assertThat(changedFiles()).containsExactly("classifiers/spam/pom.xml");

        Cli.Result tags = Cli.run("tags", "spam", "--repo", repo);
        assertThat(tags.exit()).isZero();
        assertThat(tags.out().lines().skip(1).map(l -> l.split("\\s+")[2]).toList())
                .containsExactly("spam-v0.2.0", "spam-v0.1.0");

        Maven.run(repo, "package");
        try (TestGateway gateway = TestGateway.start(repo.resolve("target/plugins"))) {
            var response = gateway.post("/spam/predict", TEXT);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode metadata = TestGateway.json(response).get("metadata");
            assertThat(metadata.get("version").asText()).isEqualTo("0.2.0");
            assertThat(metadata.get("git_tag").asText()).isEqualTo("spam-v0.2.0");
            assertThat(metadata.get("repository").asText()).isEqualTo("reviews");
            assertThat(TestGateway.json(gateway.post("/sentiment/predict", TEXT)).at("/metadata/version").asText())
                    .isEqualTo("0.1.0");
        }
    }

    /** The files the last commit changed. */
    private java.util.List<String> changedFiles() throws Exception {
        try (Git git = Git.open(repo.toFile()); RevWalk walk = new RevWalk(git.getRepository())) {
            ObjectId head = git.getRepository().resolve("HEAD");
            RevCommit commit = walk.parseCommit(head);
            RevCommit parent = walk.parseCommit(commit.getParent(0));
            try (TreeWalk tree = new TreeWalk(git.getRepository())) {
                tree.addTree(parent.getTree());
                tree.addTree(commit.getTree());
                tree.setRecursive(true);
                tree.setFilter(org.eclipse.jgit.treewalk.filter.TreeFilter.ANY_DIFF);
                java.util.List<String> files = new java.util.ArrayList<>();
                while (tree.next()) {
                    files.add(tree.getPathString());
                }
                return files;
            }
        }
    }
}
