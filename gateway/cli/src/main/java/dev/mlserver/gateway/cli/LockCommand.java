package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.plugin.PluginLock;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "lock",
        mixinStandardHelpOptions = true,
        description = {"Write the SHA-256 allowlist of the plugin jars (plugins.lock), or check the jars against it.",
            "The format is sha256sum's: `sha256sum -c plugins.lock` checks it too."},
        footer = {"", "Examples:",
            "  ml_server lock                                  # plugins/target/plugins.lock",
            "  ml_server lock --plugins-dir /opt/plugins --output /etc/mlserver/plugins.lock",
            "  ml_server lock --check                          # exit 1 when a jar differs"})
final class LockCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "directory of plugin jars (default: ${DEFAULT-VALUE})")
    Path pluginsDir = Path.of(GatewayConfig.Plugins.DEFAULT_DIR);

    @Option(names = "--output", paramLabel = "FILE", description = "the lock file (default: plugins.lock beside <plugins-dir>, in its parent directory)")
    Path output;

    @Option(names = "--check", description = "compare the jars with the lock file instead of writing it")
    boolean check;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path lockFile = output != null ? output : GatewayConfig.Plugins.defaultLockFile(pluginsDir);
        if (!Files.isDirectory(pluginsDir)) {
            throw new ToolException(pluginsDir + " is not a directory");
        }
        PluginLock actual;
        try {
            actual = PluginLock.of(pluginsDir);
        } catch (IOException e) {
            throw new ToolException("cannot read the jars in " + pluginsDir + ": " + e.getMessage(), e);
        }
        if (check) {
            return check(actual, lockFile, out);
        }
        if (actual.digests().isEmpty()) {
            throw new ToolException("no *.jar in " + pluginsDir + "; nothing to lock");
        }
        try {
            Path partial = Files.createTempFile(lockFile.toAbsolutePath().getParent(), ".plugins", ".lock.part");
            Files.writeString(partial, actual.text(), StandardCharsets.UTF_8);
            Files.move(partial, lockFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ToolException("cannot write " + lockFile + ": " + e.getMessage(), e);
        }
        out.print(actual.text());
        out.println("wrote " + lockFile + " (" + actual.digests().size() + " jar" + (actual.digests().size() == 1 ? "" : "s") + ")");
        return 0;
    }

    private static int check(PluginLock actual, Path lockFile, PrintWriter out) {
        PluginLock expected;
        try {
            expected = PluginLock.read(lockFile);
        } catch (NoSuchFileException e) {
            throw new ToolException("no lock file " + lockFile, e);
        } catch (IOException | IllegalArgumentException e) {
            throw new ToolException("cannot use " + lockFile + ": " + e.getMessage(), e);
        }
        List<String> differences = actual.differencesFrom(expected);
        if (differences.isEmpty()) {
            out.println("ok: " + actual.digests().size() + " jar(s) match " + lockFile);
            return 0;
        }
        throw new ToolException(differences.size() + " difference(s) from " + lockFile + ": " + String.join("; ", differences));
    }
}
