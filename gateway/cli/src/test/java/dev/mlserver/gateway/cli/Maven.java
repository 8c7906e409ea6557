package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs the real {@code mvn} on a scaffolded repository, offline: every plugin it needs is the build's own. */
final class Maven {
    private Maven() {}

    static boolean available() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "mvn"))) {
                return true;
            }
        }
        return false;
    }

    static void assumeAvailable() {
        Assumptions.assumeTrue(available(), "mvn is not on PATH");
    }

    /** {@code mvn -q -B -o <goals>} in {@code dir}; fails the test with Maven's output unless it succeeds. */
    static void run(Path dir, String... goals) throws IOException, InterruptedException {
        Path log = Files.createTempFile("mvn-", ".log");
        List<String> command = new java.util.ArrayList<>(List.of("mvn", "-q", "-B", "-o"));
        command.addAll(List.of(goals));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean finished = process.waitFor(5, TimeUnit.MINUTES);
        if (!finished) {
            process.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        assertThat(finished).as("mvn finished within 5 minutes").isTrue();
        assertThat(process.exitValue()).as("mvn %s in %s:\n%s", String.join(" ", goals), dir, output).isZero();
    }
}
