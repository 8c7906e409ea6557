package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.cli.deploy.BaseImage;
import dev.mlserver.gateway.cli.deploy.RuntimeJar;
import dev.mlserver.gateway.repo.ToolException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "base-image",
        mixinStandardHelpOptions = true,
        description = {"Make a JRE base image on this machine, with no registry, as a docker-save tarball.",
            "It holds a jlink'd runtime of the JDK running ml_server, the shared libraries it and ONNX Runtime "
                + "need, CA certificates and a non-root user 10001. It is how to build images where no registry "
                + "is reachable (air-gapped sites): `ml_server build --base-image tar://FILE`."},
        footer = {"", "Examples:",
            "  ml_server base-image                        # target/mlserver-jre.tar",
            "  ml_server base-image --output /srv/images/base.tar",
            "  ml_server build --base-image tar://target/mlserver-jre.tar",
            "  docker load -i target/mlserver-jre.tar      # for Docker (podman load too)"})
final class BaseImageCommand implements Callable<Integer> {
    static final String DEFAULT_OUTPUT = "target/mlserver-jre.tar";

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = DEFAULT_OUTPUT,
            description = "the tarball to write (default: ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--gateway-jar", paramLabel = "JAR",
            description = "the serving jar whose native libraries the image must run (default: the one inside ml_server.jar)")
    Path gatewayJar;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path javaHome = Path.of(System.getProperty("java.home"));
        Path serving = gatewayJar != null ? gatewayJar : RuntimeJar.extract().orElseThrow(() -> new ToolException(
                "this ml_server.jar holds no serving jar: pass --gateway-jar gateway/runtime/target/mlserver-runtime.jar"));
        Path work;
        try {
            work = Files.createTempDirectory("mlserver-base-");
        } catch (IOException e) {
            throw new ToolException("cannot make a scratch directory: " + e.getMessage(), e);
        }
        try {
            out.println("making " + BaseImage.reference() + " from " + javaHome);
            out.flush();
            String reference = BaseImage.write(javaHome, serving, work, output.toAbsolutePath(), created());
            out.printf("wrote %s (%s, %d MB)%n", output, reference, size(output) >> 20);
            out.println("build on it: ml_server build --base-image tar://" + output);
            return 0;
        } finally {
            delete(work);
        }
    }

    /** SOURCE_DATE_EPOCH when set (reproducible), else 1970: the layers say nothing of when they were made. */
    private static Instant created() {
        String epoch = System.getenv("SOURCE_DATE_EPOCH");
        return epoch != null && epoch.matches("\\d+") ? Instant.ofEpochSecond(Long.parseLong(epoch)) : Instant.EPOCH;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a scratch directory left in /tmp is harmless
        }
    }
}
