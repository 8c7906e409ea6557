package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.cli.deploy.BuildRecord;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.testing.BaseImages;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.LocalRegistry;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.Skopeo;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ml_server build} and {@code push} for real: Jib writes OCI tarballs and pushes to Debian's
 * docker-registry on 127.0.0.1; skopeo reads back what landed. The base image is a tiny local one,
 * so nothing comes from the internet.
 */
class ImageBuildAndPushTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    static Path shared;

    static LocalRegistry registry;
    static String base;
    static Path gatewayJar;
    static Path iris;
    static Path sentiment;

    @TempDir
    Path repo;

    @BeforeAll
    static void start() throws IOException {
        registry = LocalRegistry.start(Files.createDirectories(shared.resolve("registry")));
        base = BaseImages.tinyBase(Files.createDirectories(shared.resolve("base")));
        gatewayJar = fakeGatewayJar(shared.resolve("ml_server.jar"));
        Path jars = Files.createDirectories(shared.resolve("jars"));
        iris = PluginJars.plugin("iris").version("1.0.0").yaml("name: iris\n")
                .manifest("Git-Repository", "acme-ml").manifest("Git-Commit", COMMIT.substring(0, 7))
                .manifest("Git-Commit-Full", COMMIT).manifest("Git-Tags", "iris-v1.0.0")
                .writeTo(jars, "iris-1.0.0.jar");
        sentiment = PluginJars.plugin("sentiment").version("2.3.1").yaml("name: sentiment\n")
                .manifest("Git-Repository", "acme-ml").manifest("Git-Commit", COMMIT.substring(0, 7))
                .manifest("Git-Commit-Full", COMMIT).manifest("Git-Tags", "classifiers/sentiment/v2.3.1")
                .writeTo(jars, "sentiment-2.3.1.jar");
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void buildWritesAnOciTarballLabelledWithEachClassifiersVersionTagAndCommit() {
        Cli.Result built = build(List.of("--jar", iris.toString(), "--jar", sentiment.toString()));
        assertThat(built.exit()).as(built.err()).isZero();
        BuildRecord record = BuildRecord.read(repo.resolve("target").resolve(BuildRecord.FILE));
        assertThat(record.image().reference()).isEqualTo("acme-ml:iris-1.0.0_sentiment-2.3.1");

        JsonNode image = Skopeo.inspect("oci-archive:" + record.tarball());
        assertThat(image.get("Digest").asText()).isEqualTo(record.digest());
        JsonNode labels = image.get("Labels");
        assertThat(labels.get("dev.mlserver.classifier.iris.version").asText()).isEqualTo("1.0.0");
        assertThat(labels.get("dev.mlserver.classifier.iris.git_tag").asText()).isEqualTo("iris-v1.0.0");
        assertThat(labels.get("dev.mlserver.classifier.iris.git_commit").asText()).isEqualTo(COMMIT);
        assertThat(labels.get("dev.mlserver.classifier.sentiment.version").asText()).isEqualTo("2.3.1");
        assertThat(labels.get("dev.mlserver.classifier.sentiment.git_tag").asText()).isEqualTo("classifiers/sentiment/v2.3.1");
        assertThat(labels.get("org.opencontainers.image.revision").asText()).isEqualTo(COMMIT);
        assertThat(labels.get("org.opencontainers.image.title").asText()).isEqualTo("acme-ml");
        assertThat(labels.get("org.opencontainers.image.version").asText()).isEqualTo("iris-1.0.0_sentiment-2.3.1");
        assertThat(labels.has("org.opencontainers.image.created")).isTrue();
        assertThat(labels.has("org.opencontainers.image.source")).isTrue();
    }

    @Test
    void pushedImageHasLabelsLayersEntrypointUserAndTheVersionTag() {
        assertThat(build(List.of("--jar", iris.toString())).exit()).isZero();
        Cli.Result pushed = push();
        assertThat(pushed.exit()).as(pushed.err()).isZero();

        String ref = "docker://" + registry.address() + "/acme-ml-iris:1.0.0";
        JsonNode image = Skopeo.inspect(ref);
        BuildRecord record = BuildRecord.read(repo.resolve("target").resolve(BuildRecord.FILE));
        assertThat(image.get("Digest").asText()).isEqualTo(record.digest());
        assertThat(image.get("RepoTags")).extracting(JsonNode::asText).containsExactly("1.0.0");
        assertThat(image.get("Labels").get("dev.mlserver.classifier.iris.version").asText()).isEqualTo("1.0.0");
        assertThat(image.get("Labels").get("dev.mlserver.classifier.iris.git_commit").asText()).isEqualTo(COMMIT);
        // base layer, gateway jar, gateway config, the plugin jar
        assertThat(image.get("Layers")).hasSize(4);

        JsonNode config = Skopeo.inspect(ref, "--config").get("config");
        assertThat(config.get("Entrypoint")).extracting(JsonNode::asText).containsSubsequence(
                "java", "-jar", "/app/mlserver-runtime.jar", "serve", "--config", "/app/config/gateway.yaml");
        assertThat(config.get("User").asText()).isEqualTo("10001:10001");
        assertThat(config.get("ExposedPorts").has("8000/tcp")).isTrue();
        assertThat(config.get("Env")).extracting(JsonNode::asText).contains("PATH=/opt/java/openjdk/bin:/usr/bin:/bin");
    }

    @Test
    void pushRefusesToOverwriteAVersionTagThatHoldsAnotherImage() throws IOException {
        assertThat(build(List.of("--jar", iris.toString(), "--tag", "refuse/iris:1.0.0")).exit()).isZero();
        assertThat(push().exit()).isZero();
        String first = Skopeo.inspect("docker://" + registry.address() + "/refuse/iris:1.0.0").get("Digest").asText();

        Cli.Result rebuilt = build(List.of("--jar", iris.toString(), "--tag", "refuse/iris:1.0.0"), "2000000000");
        assertThat(rebuilt.exit()).as(rebuilt.err()).isZero();
        Cli.Result refused = push();

        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("already exists").contains("--force");
        assertThat(Skopeo.inspect("docker://" + registry.address() + "/refuse/iris:1.0.0").get("Digest").asText())
                .isEqualTo(first);
    }

    @Test
    void pushWithForceOverwritesTheVersionTag() {
        assertThat(build(List.of("--jar", iris.toString(), "--tag", "forced/iris:1.0.0")).exit()).isZero();
        assertThat(push().exit()).isZero();
        assertThat(build(List.of("--jar", iris.toString(), "--tag", "forced/iris:1.0.0"), "2000000000").exit()).isZero();

        Cli.Result forced = push("--force");

        assertThat(forced.exit()).as(forced.err()).isZero();
        BuildRecord record = BuildRecord.read(repo.resolve("target").resolve(BuildRecord.FILE));
        assertThat(Skopeo.inspect("docker://" + registry.address() + "/forced/iris:1.0.0").get("Digest").asText())
                .isEqualTo(record.digest());
    }

    @Test
    void pushingTheSameImageAgainSucceedsWithoutPushing() {
        assertThat(build(List.of("--jar", iris.toString(), "--tag", "again/iris:1.0.0")).exit()).isZero();
        assertThat(push().exit()).isZero();

        Cli.Result again = push();

        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out()).contains("nothing to push");
    }

    @Test
    void buildStraightToTheRegistryRefusesAnExistingTagWithoutForce() {
        List<String> args = List.of("--jar", iris.toString(), "--tag", "direct/iris", "--registry", registry.address(), "--insecure");
        Cli.Result first = build(args);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(Skopeo.inspect("docker://" + registry.address() + "/direct/iris:1.0.0").get("RepoTags"))
                .extracting(JsonNode::asText).containsExactly("1.0.0");

        Cli.Result second = build(args);

        assertThat(second.exit()).isEqualTo(1);
        assertThat(second.err()).contains("already exists");
    }

    @Test
    void theTagLatestIsRefused() {
        Cli.Result result = build(List.of("--jar", iris.toString(), "--tag", "acme/iris:latest"));

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("latest");
    }

    @Test
    void pushRefusesWhenAnImageFileChangedSinceTheBuild() throws IOException {
        assertThat(build(List.of("--jar", iris.toString(), "--tag", "changed/iris:1.0.0")).exit()).isZero();
        Path staged = repo.resolve("target/docker/changed_iris/plugins/iris.jar");
        Files.write(staged, new byte[] {1, 2, 3});

        Cli.Result result = push();

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("changed since the build");
    }

    @Test
    void imageGatewayConfigServesThePluginsInsideTheImage() throws IOException {
        assertThat(build(List.of("--jar", iris.toString())).exit()).isZero();
        Path context = repo.resolve("target/docker/acme-ml-iris");

        GatewayConfig config = ConfigLoader.create(Map.of()).load(java.util.Optional.of(context.resolve("gateway.yaml")));

        assertThat(config.plugins().dir()).isEqualTo(Path.of("/app/plugins"));
        assertThat(config.plugins().workDir()).isEqualTo(Path.of("/tmp/mlserver-plugins"));
        String dockerfile = Files.readString(context.resolve("Dockerfile"));
        // a tarball base is named by the image it loads as, with the command that loads it
        assertThat(dockerfile).contains("docker load -i " + base.substring("tar://".length()), "FROM mlserver-test-base:1",
                "COPY plugins/iris.jar /app/plugins/iris.jar", "USER 10001:10001",
                "HEALTHCHECK", "ENTRYPOINT [\"java\"");
        assertThat(Files.mismatch(context.resolve("plugins/iris.jar"), iris)).isEqualTo(-1);
    }

    private Cli.Result build(List<String> args) {
        return build(args, "1800000000");
    }

    private Cli.Result build(List<String> args, String epoch) {
        List<String> all = new ArrayList<>(List.of("build", "--repo", repo.toString(), "--base-image", base,
                "--gateway-jar", gatewayJar.toString(), "--cache-dir", shared.resolve("jib-cache").toString(),
                "--created-epoch", epoch));
        all.addAll(args);
        return Cli.run(all.toArray(String[]::new));
    }

    private Cli.Result push(String... extra) {
        List<String> all = new ArrayList<>(List.of("push", "--repo", repo.toString(), "--registry", registry.address(),
                "--insecure", "--cache-dir", shared.resolve("jib-cache").toString()));
        all.addAll(List.of(extra));
        return Cli.run(all.toArray(String[]::new));
    }

    /** A small stand-in for ml_server.jar: the real one is 100 MB and only its bytes matter here. */
    private static Path fakeGatewayJar(Path jar) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "dev.mlserver.gateway.cli.MlServer");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out, mf)) {
            zip.putNextEntry(new JarEntry("README.txt"));
            zip.write("stand-in gateway jar for image tests\n".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return jar;
    }
}
