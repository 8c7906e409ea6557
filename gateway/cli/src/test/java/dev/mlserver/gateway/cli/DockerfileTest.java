package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

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
}
