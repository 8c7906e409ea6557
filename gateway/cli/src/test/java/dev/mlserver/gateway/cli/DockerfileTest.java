package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.cli.deploy.BaseImage;
import dev.mlserver.gateway.cli.deploy.ImagePlanner;
import dev.mlserver.gateway.cli.deploy.PluginJar;
import dev.mlserver.gateway.repo.Repository;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker/Dockerfile is what {@code ml_server build} generates for the example family. */
class DockerfileTest {
    @Test
    void committedDockerfileIsWhatTheBuildGeneratesForTheExampleFamily(@TempDir Path tmp) throws IOException {
        Path root = KubernetesManifestsTest.ROOT;
        List<PluginJar> jars;
        try (Stream<Path> files = Files.list(TestGateway.examplePlugins())) {
            jars = files.filter(f -> f.toString().endsWith(".jar")).sorted().map(PluginJar::read).toList();
        }
        Path gatewayJar = Files.writeString(tmp.resolve("ml_server.jar"), "stand-in");

        var spec = ImagePlanner.plan(new ImagePlanner.Request("mlserver-examples", jars, gatewayJar,
                ImagePlanner.DEFAULT_BASE_IMAGE, Optional.empty(), Optional.empty(), Instant.EPOCH,
                new Repository.GitInfo(Optional.empty(), Optional.empty()), tmp));

        assertThat(root.resolve("docker/Dockerfile")).as("regenerate: ml_server build, then copy target/docker/mlserver-examples/Dockerfile")
                .hasSameTextualContentAs(tmp.resolve(spec.name()).resolve("Dockerfile"));
    }

    @Test
    void onTheShellFreeBaseImageTheDockerfileHasNoHealthcheckThatNeedsBash(@TempDir Path tmp) throws Exception {
        // a docker-save tarball as ml_server base-image names it, made with the tar program
        Path image = Files.createDirectories(tmp.resolve("image"));
        Files.writeString(image.resolve("manifest.json"), "[{\"Config\": \"config.json\", \"RepoTags\": [\""
                + BaseImage.reference() + "\"], \"Layers\": [\"layer.tar\"]}]");
        Process tar = new ProcessBuilder("tar", "-cf", tmp.resolve("base.tar").toString(), "-C", image.toString(), "manifest.json")
                .inheritIO().start();
        assertThat(tar.waitFor()).isZero();
        List<PluginJar> jars = List.of(PluginJar.read(TestGateway.examplePlugins().resolve("iris.jar")));
        Path gatewayJar = Files.writeString(tmp.resolve("ml_server.jar"), "stand-in");

        var spec = ImagePlanner.plan(new ImagePlanner.Request("mlserver-examples", jars, gatewayJar,
                "tar://" + tmp.resolve("base.tar"), Optional.empty(), Optional.empty(), Instant.EPOCH,
                new Repository.GitInfo(Optional.empty(), Optional.empty()), tmp));
        String dockerfile = Files.readString(tmp.resolve(spec.name()).resolve("Dockerfile"));

        assertThat(dockerfile).contains("FROM " + BaseImage.reference()).doesNotContain("HEALTHCHECK --")
                .doesNotContain("bash").contains("# No HEALTHCHECK: ");
    }
}
