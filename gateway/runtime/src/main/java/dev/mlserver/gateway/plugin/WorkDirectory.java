package dev.mlserver.gateway.plugin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the gateway keeps private copies of the jars it loaded ({@code <sha256>.jar}) and the
 * partial copies being written ({@code *.part}). Both are cleaned when the gateway starts and when
 * it stops: a copy left by a process that was killed, or a partial copy from a full disk, never
 * lingers. Without {@code plugins.work_dir} it is a fresh temporary directory that holds its
 * owner's process id; a temporary directory whose owner is gone (killed) is removed at the next start.
 */
public final class WorkDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkDirectory.class);
    static final String PARTIAL = ".part";
    static final String TEMPORARY_PREFIX = "mlserver-plugins-";
    static final String OWNER = "owner.pid";
    private static final Pattern COPY = Pattern.compile("[0-9a-f]{64}\\.jar");

    private final Path dir;
    private final boolean temporary;

    private WorkDirectory(Path dir, boolean temporary) {
        this.dir = dir;
        this.temporary = temporary;
    }

    /** The configured directory (created, leftovers removed), or a new temporary one when {@code configured} is null. */
    public static WorkDirectory open(Path configured) {
        try {
            if (configured != null) {
                Path dir = Files.createDirectories(configured);
                removeLeftovers(dir);
                return new WorkDirectory(dir, false);
            }
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            removeOrphans(tmp);
            Path dir = Files.createTempDirectory(TEMPORARY_PREFIX);
            Files.writeString(dir.resolve(OWNER), Long.toString(ProcessHandle.current().pid()), StandardCharsets.US_ASCII);
            return new WorkDirectory(dir, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the plugin work directory: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return dir;
    }

    /** Removes every copy and partial copy; a temporary directory goes as a whole. */
    @Override
    public void close() {
        try {
            removeLeftovers(dir);
            if (temporary) {
                Files.deleteIfExists(dir.resolve(OWNER));
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            LOG.warn("cannot clean the plugin work directory {}: {}", dir, e.toString());
        }
    }

    /** Deletes the jar copies and partial copies in {@code dir}, and nothing else. */
    static void removeLeftovers(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if ((name.endsWith(PARTIAL) || COPY.matcher(name).matches()) && Files.isRegularFile(file)) {
                    Files.deleteIfExists(file);
                    removed++;
                }
            }
        }
        if (removed > 0) {
            LOG.info("removed {} leftover jar cop{} from {}", removed, removed == 1 ? "y" : "ies", dir);
        }
    }

    /** Removes temporary work directories whose owning process no longer runs. */
    private static void removeOrphans(Path tmp) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, TEMPORARY_PREFIX + "*")) {
            for (Path dir : dirs) {
                Path owner = dir.resolve(OWNER);
                if (!Files.isRegularFile(owner) || alive(owner)) {
                    continue; // not ours to judge, or still in use
                }
                try {
                    removeLeftovers(dir);
                    Files.deleteIfExists(owner);
                    Files.deleteIfExists(dir);
                } catch (IOException e) {
                    LOG.debug("cannot remove the orphaned work directory {}: {}", dir, e.toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot sweep {} for orphaned work directories: {}", tmp, e.toString());
        }
    }

    private static boolean alive(Path owner) throws IOException {
        String text = Files.readString(owner, StandardCharsets.US_ASCII).trim();
        if (!text.matches("\\d{1,19}")) {
            return true;
        }
        return ProcessHandle.of(Long.parseLong(text)).map(ProcessHandle::isAlive).orElse(false);
    }
}
