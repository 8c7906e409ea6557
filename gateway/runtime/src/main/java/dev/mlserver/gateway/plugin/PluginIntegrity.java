package dev.mlserver.gateway.plugin;

import dev.mlserver.gateway.config.GatewayConfig;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a plugin jar's SHA-256 against the lock file before anything in the jar is read. A jar
 * passes only when its file name is listed with exactly its digest. In {@code strict} mode a jar
 * that is not listed (a listed jar's bytes copied under another name included), or whose bytes
 * differ from what is listed for its name, is refused; in {@code warn} mode it is logged and counted but loaded. The lock file is
 * read on every check, so a new lock applies to the next (re)load.
 */
public final class PluginIntegrity {
    private static final Logger LOG = LoggerFactory.getLogger(PluginIntegrity.class);

    private final GatewayConfig.Integrity mode;
    private final Path lockFile;
    private final Listener listener;

    /** Told of every jar that fails the check. */
    public interface Listener {
        /**
         * @param problem {@code unlisted}, {@code modified}, {@code no_lock_file} or {@code bad_lock_file}
         * @param refused true in strict mode, false when only warned
         */
        void integrityFailure(String jar, String problem, boolean refused);

        Listener NONE = (jar, problem, refused) -> {};
    }

    private PluginIntegrity(GatewayConfig.Integrity mode, Path lockFile, Listener listener) {
        this.mode = mode;
        this.lockFile = lockFile;
        this.listener = listener;
    }

    public static PluginIntegrity create(GatewayConfig.Plugins plugins, Listener listener) {
        Path lockFile = plugins.lockFileOrDefault();
        if (plugins.integrity() != GatewayConfig.Integrity.OFF
                && lockFile.toAbsolutePath().normalize().startsWith(plugins.dir().toAbsolutePath().normalize())) {
            LOG.warn("plugins.lock_file {} is inside plugins.dir: whoever can add a jar there can add its digest too;"
                    + " keep the lock file outside it, read-only", lockFile);
        }
        return new PluginIntegrity(plugins.integrity(), lockFile, listener);
    }

    public GatewayConfig.Integrity mode() {
        return mode;
    }

    /** Passes, warns or throws {@link PluginLoadException} with the reason. */
    public void verify(String jar, String sha256) {
        if (mode == GatewayConfig.Integrity.OFF) {
            return;
        }
        String problem;
        String reason;
        try {
            PluginLock lock = PluginLock.read(lockFile);
            if (lock.allows(jar, sha256)) {
                return;
            }
            String listed = lock.digestOf(jar).orElse(null);
            List<String> otherNames = lock.namesOf(sha256);
            if (listed != null) {
                problem = "modified";
                reason = jar + " has sha256 " + sha256 + " but " + lockFile.getFileName() + " lists " + listed
                        + " for it: the jar was modified or rebuilt";
            } else if (!otherNames.isEmpty()) {
                // a name and its bytes are listed together: a copy under another name is not in the lock
                problem = "unlisted";
                reason = jar + " is not in " + lockFile.getFileName() + "; its bytes are listed as " + otherNames.get(0)
                        + ", and a jar is allowed only under the name it is listed with";
            } else {
                problem = "unlisted";
                reason = jar + " (sha256 " + sha256 + ") is not in " + lockFile.getFileName();
            }
        } catch (NoSuchFileException e) {
            problem = "no_lock_file";
            reason = "no lock file at " + lockFile + " to check " + jar + " against";
        } catch (IOException | IllegalArgumentException e) {
            problem = "bad_lock_file";
            reason = "cannot use lock file " + lockFile + ": " + e.getMessage();
        }
        boolean refused = mode == GatewayConfig.Integrity.STRICT;
        listener.integrityFailure(jar, problem, refused);
        if (refused) {
            throw new PluginLoadException("integrity check failed: " + reason + " (plugins.integrity: strict)");
        }
        LOG.warn("integrity check failed: {}; loading it anyway (plugins.integrity: warn)", reason);
    }
}
