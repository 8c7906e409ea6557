package dev.mlserver.gateway.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin work directory holds nothing from an earlier run, and nothing after the gateway stops. */
class WorkDirectoryTest {
    static final String HASH = "ab".repeat(32);

    @TempDir
    Path dir;

    static long files(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        }
    }

    @Test
    void partialAndStaleCopiesAreRemovedAtStartAndTheRestIsLeftAlone() throws IOException {
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.write(work.resolve(HASH + "1234.part"), new byte[100]); // a copy cut short by a full disk
        Files.write(work.resolve(HASH + ".jar"), new byte[100]);      // a copy from a killed process
        Files.writeString(work.resolve("notes.txt"), "not ours");
        try (WorkDirectory opened = WorkDirectory.open(work)) {
            assertThat(work.resolve(HASH + "1234.part")).doesNotExist();
            assertThat(work.resolve(HASH + ".jar")).doesNotExist();
            assertThat(work.resolve("notes.txt")).exists();
        }
    }

    @Test
    void aGatewayLeavesNoCopiesBehindWhenItStops() throws IOException {
        Path work = dir.resolve("work");
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        try (TestGateway gateway = TestGateway.start(plugins, "plugins:\n  work_dir: " + work + "\n")) {
            assertThat(gateway.get("/iris").statusCode()).isEqualTo(200);
            assertThat(files(work)).isEqualTo(1);
        }
        assertThat(files(work)).isZero();
    }

    @Test
    void aTemporaryDirectoryGoesWhenClosedAndAnOrphanedOneAtTheNextStart() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path orphan = Files.createTempDirectory(tmp, WorkDirectory.TEMPORARY_PREFIX);
        Files.write(orphan.resolve(HASH + ".jar"), new byte[10]);
        // a process id that is not running: one that has exited
        Process exited = new ProcessBuilder("true").start();
        exited.onExit().join();
        Files.writeString(orphan.resolve(WorkDirectory.OWNER), Long.toString(exited.pid()));
        Path mine;
        try (WorkDirectory work = WorkDirectory.open(null)) {
            mine = work.path();
            assertThat(orphan).doesNotExist();
            assertThat(Files.readString(mine.resolve(WorkDirectory.OWNER))).isEqualTo(Long.toString(ProcessHandle.current().pid()));
            Files.write(mine.resolve(HASH + ".jar"), new byte[10]);
        }
        assertThat(mine).doesNotExist();
    }
}
