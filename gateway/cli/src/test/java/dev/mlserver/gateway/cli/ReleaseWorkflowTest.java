package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.cli.deploy.MlServerSource;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.JdkHttp;
import dev.mlserver.gateway.testing.LocalRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new user's release, from an empty directory to a running container, with no registry but the
 * one on loopback: init (one classifier and several), mvn package, bump, base-image, build, push,
 * then podman pulls and runs the image and it answers with the bumped version and tag; and the CI
 * workflow {@code ml_server ci} writes runs green on a bump's tag. What is expensive (the Maven
 * builds, the base image, the registry) is made once for the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReleaseWorkflowTest {
    static final String IRIS = "{\"payload\": {\"sepal_length\": 5.1, \"sepal_width\": 3.5, \"petal_length\": 1.4, \"petal_width\": 0.2}}";
    static final Duration GRACE = Duration.ofSeconds(20);

    @TempDir
    static Path workspace;
    Path single;
    Path multi;
    String base;
    LocalRegistry registry;

    @BeforeAll
    void initPackageAndBump() throws Exception {
        Maven.assumeAvailable();
        Assumptions.assumeTrue(Files.isExecutable(Path.of(LocalRegistry.BINARY)), "docker-registry is not installed");
        single = workspace.resolve("tumor");
        multi = workspace.resolve("reviews");
        ok(Cli.run("init", single));
        ok(Cli.run("init", multi, "--text", "--classifier", "sentiment", "--classifier", "spam"));
        Maven.run(single, "package");
        Maven.run(multi, "package");
        ok(Cli.run("bump", "tumor", "minor", "--repo", single));
        ok(Cli.run("bump", "spam", "patch", "--repo", multi));
        base = workspace.resolve("base.tar").toString();
        ok(Cli.run("base-image", "--output", base));
        registry = LocalRegistry.start(Files.createDirectories(workspace.resolve("registry")));
    }

    @AfterAll
    void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    @Order(1)
    void theSingleClassifierRepositoryBuildsAndPushesAsItsOwnName() {
        Cli.Result build = build(single, "--repo", single);
        assertThat(build.out()).contains("built tumor:0.2.0 ");
        assertThat(single.resolve("target/docker/tumor/Dockerfile")).content().contains("docker load -i " + base);
        ok(Cli.run("push", "--repo", single, "--registry", registry.address(), "--insecure"));
    }

    @Test
    @Order(2)
    void aClassifierOfTheMultiRepositoryBuildsFromTheRootByItsPath() throws Exception {
        Cli.Result build = build(multi, "--classifier-path", multi.resolve("classifiers/spam"));
        assertThat(build.out()).contains("built reviews-spam:0.1.1 ");
        ok(Cli.run("push", "--repo", multi, "--registry", registry.address(), "--insecure"));
        try (Git git = Git.open(multi.toFile())) {
            assertThat(git.status().call().getUncommittedChanges()).as("build writes under target/ only").isEmpty();
        }
    }

    @Test
    @Order(3)
    void theImagePulledByPodmanAnswersWithTheBumpedVersionAndStopsOnSigterm() throws Exception {
        Podman podman = Podman.create(workspace.resolve("podman"));
        String image = registry.address() + "/tumor:0.2.0";
        podman.run("pull", "--tls-verify=false", image);
        int port = freePort();
        long started = System.nanoTime();
        podman.run("run", "-d", "--name", "tumor", "--network", "host", "-e", "MLSERVER_PORT=" + port,
                "-e", "MLSERVER_GRPC_PORT=" + freePort(), image);
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            String url = "http://127.0.0.1:" + port;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            int ready = 0;
            while (ready != 200 && System.nanoTime() < deadline) {
                Thread.sleep(250);
                ready = status(http, HttpRequest.newBuilder(URI.create(url + "/health/ready")).build());
            }
            assertThat(ready).as("ready within 3 minutes; logs:\n%s", podman.output("logs", "tumor")).isEqualTo(200);
            System.out.printf("tumor:0.2.0 ready %.1f s after podman run%n", (System.nanoTime() - started) / 1e9);

            HttpResponse<String> answer = JdkHttp.send(http, HttpRequest.newBuilder(URI.create(url + "/tumor/predict"))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(IRIS)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            JsonNode metadata = new ObjectMapper().readTree(answer.body()).get("metadata");
            assertThat(metadata.get("version").asText()).isEqualTo("0.2.0");
            assertThat(metadata.get("git_tag").asText()).isEqualTo("tumor-v0.2.0");
            try (Git git = Git.open(single.toFile())) {
                assertThat(git.getRepository().resolve("tumor-v0.2.0^{commit}").name()).startsWith(metadata.get("git_commit").asText());
            }
            assertThat(metadata.get("repository").asText()).isEqualTo("tumor");

            long stopping = System.nanoTime();
            podman.run("stop", "-t", Long.toString(GRACE.toSeconds()), "tumor");
            assertThat(Duration.ofNanos(System.nanoTime() - stopping)).isLessThan(GRACE);
            assertThat(podman.output("inspect", "tumor", "--format", "{{.State.ExitCode}}").strip())
                    .as("stopped by SIGTERM, not killed").isNotEqualTo("137");
        } finally {
            podman.output("rm", "-f", "tumor");
        }
    }

    @Test
    @Order(4)
    void k8sAndCiAnswerForBothRepositoriesAsGenerated() {
        for (Path repo : List.of(single, multi)) {
            ok(Cli.run("k8s", "--repo", repo, "-o", repo.resolve("target/k8s")));
            ok(Cli.run("ci", "--repo", repo, "-o", repo.resolve("target/build-deploy.yml")));
        }
        assertThat(single.resolve("target/k8s").toFile().list()).anyMatch(f -> f.startsWith("tumor-v0-2-0"));
        assertThat(single.resolve("target/build-deploy.yml")).content().contains("tumor) path=\".\"");
    }

    @Test
    @Order(5)
    void twoClassifiersOfOneNameAreOneLineAndExit1() throws IOException {
        Path copy = multi.resolve("classifiers/spam-copy");
        Files.createDirectories(copy);
        Files.copy(multi.resolve("classifiers/spam/pom.xml"), copy.resolve("pom.xml"));
        Files.copy(multi.resolve("classifiers/spam/mlserver.yaml"), copy.resolve("mlserver.yaml"));
        try {
            refused(Cli.run("k8s", "--repo", multi), "two classifier modules are named 'spam'");
        } finally {
            Files.delete(copy.resolve("pom.xml"));
            Files.delete(copy.resolve("mlserver.yaml"));
            Files.delete(copy);
        }
    }

    @Test
    @Order(6)
    void aModuleWithoutMlserverYamlIsOneLineAndExit1() {
        refused(Cli.run("build", "--classifier-path", multi.resolve("shared"), "--base-image", "tar://" + base),
                "has no mlserver.yaml");
    }

    @Test
    @Order(7)
    void aBaseTarballThatIsNotAnImageIsOneLineAndExit1() throws IOException {
        Path garbage = Files.writeString(workspace.resolve("garbage.tar"), "not a tar at all");
        refused(Cli.run("build", "--repo", single, "--base-image", "tar://" + garbage), "is not an image tarball");
    }

    @Test
    @Order(8)
    void aRegistryThatRefusesThePushIsOneLineAndExit1() throws IOException {
        try (LocalRegistry readOnly = LocalRegistry.readOnly(Files.createDirectories(workspace.resolve("read-only")))) {
            refused(Cli.run("push", "--repo", single, "--registry", readOnly.address(), "--insecure"), "405");
        }
    }

    /**
     * {@code ml_server ci}'s workflow, committed, and a bump's tag pushed: its steps run in order in
     * a fresh clone (LocalWorkflowRunner: checkout, setup-java and cache run their local
     * equivalents). Only what must be local is set: mlserver's source is this project's clone (the
     * commit is the one the workflow pins), the base image is the one made above, the registry is
     * the loopback one (plain HTTP). The first run builds ml_server from that source; the second
     * finds it in the runner's cache.
     */
    @Test
    @Order(9)
    void theCiWorkflowRunsGreenOnABumpTagForBothRepositories() throws Exception {
        Assumptions.assumeTrue(Files.exists(KubernetesManifestsTest.ROOT.resolve(".git")), "mlserver's source is not a git clone");
        LocalWorkflowRunner runner = LocalWorkflowRunner.create(workspace.resolve("runner"));
        Map<String, String> vars = Map.of("MLSERVER_SOURCE", KubernetesManifestsTest.ROOT.toUri().toString(),
                "MLSERVER_BASE_IMAGE", "tar://" + base, "REGISTRY_INSECURE", "true");
        Map<String, String> secrets = Map.of("REGISTRY_URL", registry.address());

        List<LocalWorkflowRunner.StepRun> first = release(runner, single, "tumor", vars, secrets);
        assertThat(tags("tumor")).contains("0.2.1");
        List<LocalWorkflowRunner.StepRun> second = release(runner, multi, "spam", vars, secrets);
        assertThat(tags("reviews-spam")).contains("0.1.2");

        assertThat(step(first, "Get ml_server").output()).contains("building ml_server " + MlServerSource.stamped().ref().orElseThrow());
        assertThat(step(second, "Get ml_server").output()).contains("from the cache");
        assertThat(step(second, "Check the image is the tagged version").ran()).isTrue();
    }

    /** As a user releases with CI: write the workflow, commit it, bump (which tags), push the tag. */
    private static List<LocalWorkflowRunner.StepRun> release(LocalWorkflowRunner runner, Path repo, String classifier,
            Map<String, String> vars, Map<String, String> secrets) throws Exception {
        ok(Cli.run("ci", "--repo", repo));
        try (Git git = Git.open(repo.toFile())) {
            git.add().addFilepattern(".github").call();
            PersonIdent me = new PersonIdent("Release Test", "release@example.org");
            git.commit().setMessage("CI workflow").setAuthor(me).setCommitter(me).call();
        }
        ok(Cli.run("bump", classifier, "patch", "--repo", repo));
        String tag = null;
        try (Git git = Git.open(repo.toFile())) {
            ObjectId head = git.getRepository().resolve("HEAD");
            for (Ref ref : git.tagList().call()) {
                Ref peeled = git.getRepository().getRefDatabase().peel(ref);
                if (head.equals(peeled.getPeeledObjectId() != null ? peeled.getPeeledObjectId() : peeled.getObjectId())) {
                    tag = Repository.shortenRefName(ref.getName());
                }
            }
        }
        assertThat(tag).as("the bump's tag on HEAD").isNotNull();
        return runner.run(repo, ".github/workflows/build-deploy.yml", "build-deploy", LocalWorkflowRunner.Event.tagPush(tag),
                vars, secrets);
    }

    private static LocalWorkflowRunner.StepRun step(List<LocalWorkflowRunner.StepRun> runs, String name) {
        return runs.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no step " + name));
    }

    /** The tags the loopback registry holds for {@code name}. */
    private String tags(String name) throws IOException, InterruptedException {
        HttpResponse<String> answer = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://" + registry.address() + "/v2/" + name + "/tags/list")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return answer.body();
    }

    private Cli.Result build(Path repo, Object... args) {
        List<Object> all = new ArrayList<>(List.of("build", "--base-image", "tar://" + base, "--offline", "--skip-tests",
                "--cache-dir", workspace.resolve("jib-cache")));
        all.addAll(List.of(args));
        return ok(Cli.run(all.toArray()));
    }

    private static Cli.Result ok(Cli.Result result) {
        assertThat(result.exit()).as(result.toString()).isZero();
        return result;
    }

    /**
     * The one error path: exit 1 and one line {@code ml_server: <reason>}, the last on stderr (a
     * push's progress lines may come before it), and no stack trace.
     */
    private static void refused(Cli.Result result, String reason) {
        assertThat(result.exit()).as(result.toString()).isEqualTo(1);
        List<String> lines = result.err().strip().lines().toList();
        assertThat(lines).as(result.err()).filteredOn(l -> l.startsWith("ml_server: ")).hasSize(1);
        assertThat(lines.get(lines.size() - 1)).startsWith("ml_server: ").contains(reason);
        assertThat(result.err()).doesNotContain("\tat ");
    }

    private static int status(HttpClient http, HttpRequest request) throws InterruptedException {
        try {
            return JdkHttp.send(http, request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Debian's podman as this machine kind runs it: runc, no default ulimits, storage of its own. */
    record Podman(Path dir, Path conf) {
        static Podman create(Path dir) throws IOException {
            Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/podman")), "podman is not installed");
            Files.createDirectories(dir);
            Path conf = Files.writeString(dir.resolve("containers.conf"), "[containers]\ndefault_ulimits = []\n");
            return new Podman(dir, conf);
        }

        void run(String... args) throws IOException, InterruptedException {
            Process process = start(args);
            String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
            assertThat(process.exitValue()).as("podman %s:\n%s", String.join(" ", args), printed).isZero();
        }

        String output(String... args) throws IOException, InterruptedException {
            Process process = start(args);
            String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(2, TimeUnit.MINUTES);
            return printed;
        }

        private Process start(String... args) throws IOException {
            List<String> command = new ArrayList<>(List.of("podman", "--runtime", "runc", "--root", dir.resolve("storage").toString(),
                    "--runroot", dir.resolve("run").toString(), "--storage-driver", "vfs"));
            command.addAll(List.of(args));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().put("CONTAINERS_CONF", conf.toString());
            return builder.start();
        }
    }
}
