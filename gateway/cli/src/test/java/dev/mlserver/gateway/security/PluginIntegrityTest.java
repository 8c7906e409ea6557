package dev.mlserver.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.cli.MlServer;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The plugin jar allowlist: `ml_server lock` writes it, the gateway enforces it. */
class PluginIntegrityTest {
    static final String BODY = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @TempDir
    Path dir;
    Path plugins;

    @BeforeEach
    void jars() throws IOException {
        plugins = Files.createDirectories(dir.resolve("plugins"));
        Path iris = TestGateway.examplePlugins().resolve("iris.jar");
        Files.copy(iris, plugins.resolve("iris.jar"), StandardCopyOption.REPLACE_EXISTING);
        PluginJars.renamed(iris, plugins, "other", "1.0.0");
    }

    static Cli.Result cli(String... args) {
        return Cli.run((Object[]) args);
    }

    /** Changes one byte in the middle of a file. */
    static void flipOneByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(file, bytes);
    }

    static JsonNode plugin(TestGateway gateway, String jar) {
        JsonNode plugins = TestGateway.json(gateway.get("/classifiers")).get("plugins");
        return StreamSupport.stream(plugins.spliterator(), false)
                .filter(p -> p.get("jar").asText().equals(jar)).findFirst().orElseThrow();
    }

    String config(String mode) {
        return "plugins:\n  integrity: " + mode + "\n";
    }

    @Test
    void lockWritesOneSha256sumLinePerJar() throws IOException {
        Cli.Result result = cli("lock", "--plugins-dir", plugins.toString());
        assertThat(result.exit()).as(result.err()).isZero();
        // beside the plugins directory, not in it: whoever can drop a jar there cannot add its digest
        String lock = Files.readString(dir.resolve("plugins.lock"));
        assertThat(lock.lines()).hasSize(2)
                .allMatch(line -> line.matches("[0-9a-f]{64}  (iris|other)\\.jar"));
        assertThat(result.out()).contains("wrote " + dir.resolve("plugins.lock"));
        assertThat(plugins.resolve("plugins.lock")).doesNotExist();
    }

    @Test
    void strictModeRefusesACopyOfAListedJarUnderAnotherName() throws IOException {
        cli("lock", "--plugins-dir", plugins.toString());
        Files.copy(plugins.resolve("iris.jar"), plugins.resolve("zzz-copy.jar"));
        try (TestGateway gateway = TestGateway.start(plugins, config("strict"))) {
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
            JsonNode copy = plugin(gateway, "zzz-copy.jar");
            assertThat(copy.get("state").asText()).isEqualTo("failed");
            assertThat(copy.get("reason").asText()).contains("zzz-copy.jar is not in plugins.lock")
                    .contains("listed as iris.jar");
        }
    }

    @Test
    void aLockFileDroppedIntoThePluginsDirectoryIsNotRead() throws IOException {
        cli("lock", "--plugins-dir", plugins.toString());
        PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "newcomer", "1.0.0");
        // someone who can write jars writes a lock listing their own jar where the old default was
        assertThat(cli("lock", "--plugins-dir", plugins.toString(), "--output", plugins.resolve("plugins.lock").toString())
                .exit()).isZero();
        try (TestGateway gateway = TestGateway.start(plugins, config("strict"))) {
            assertThat(plugin(gateway, "newcomer.jar").get("state").asText()).isEqualTo("failed");
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void lockCheckFailsOnAJarChangedByOneByte() throws IOException {
        cli("lock", "--plugins-dir", plugins.toString());
        assertThat(cli("lock", "--plugins-dir", plugins.toString(), "--check").exit()).isZero();
        flipOneByte(plugins.resolve("other.jar"));
        Cli.Result result = cli("lock", "--plugins-dir", plugins.toString(), "--check");
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).startsWith("ml_server: ").contains("other.jar: sha256");
    }

    @Test
    void strictModeRefusesAJarChangedByOneByteAndServesTheRest() throws IOException {
        cli("lock", "--plugins-dir", plugins.toString());
        flipOneByte(plugins.resolve("other.jar"));
        try (TestGateway gateway = TestGateway.start(plugins, config("strict"))) {
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(gateway.post("/other/predict", BODY).statusCode()).isEqualTo(404);
            JsonNode other = plugin(gateway, "other.jar");
            assertThat(other.get("state").asText()).isEqualTo("failed");
            assertThat(other.get("reason").asText()).contains("integrity check failed")
                    .contains("other.jar has sha256").contains("modified");
            assertThat(gateway.get("/metrics").body()).containsPattern(
                    "mlserver_plugin_integrity_failures_total\\{action=\"refused\",jar=\"other.jar\",problem=\"modified\"} 1");
        }
    }

    @Test
    void strictModeRefusesAJarNotInTheLock() throws IOException {
        cli("lock", "--plugins-dir", plugins.toString());
        PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "newcomer", "1.0.0");
        try (TestGateway gateway = TestGateway.start(plugins, config("strict"))) {
            assertThat(gateway.post("/other/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(plugin(gateway, "newcomer.jar").get("reason").asText()).contains("is not in plugins.lock");
        }
    }

    @Test
    void strictModeWithoutALockFileRefusesEveryJar() {
        try (TestGateway gateway = TestGateway.start(plugins, config("strict"))) {
            assertThat(plugin(gateway, "iris.jar").get("reason").asText()).contains("no lock file at");
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(503);
        }
    }

    @Test
    void warnModeLoadsAModifiedJarButCountsIt() throws IOException {
        cli("lock", "--plugins-dir", plugins.toString());
        Path renamedAgain = PluginJars.renamed(plugins.resolve("other.jar"), dir, "other", "1.0.1");
        Files.move(renamedAgain, plugins.resolve("other.jar"), StandardCopyOption.REPLACE_EXISTING);
        try (TestGateway gateway = TestGateway.start(plugins, config("warn"))) {
            assertThat(gateway.post("/other/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(gateway.get("/metrics").body()).contains(
                    "mlserver_plugin_integrity_failures_total{action=\"warned\",jar=\"other.jar\",problem=\"modified\"} 1");
        }
    }

    @Test
    void aLockFileElsewhereIsUsedWhenConfigured() throws IOException {
        Path lock = dir.resolve("elsewhere.lock");
        assertThat(cli("lock", "--plugins-dir", plugins.toString(), "--output", lock.toString()).exit()).isZero();
        try (TestGateway gateway = TestGateway.start(plugins, config("strict") + "  lock_file: " + lock + "\n")) {
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(gateway.post("/other/predict", BODY).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void offIsTheDefaultAndNeedsNoLockFile() {
        assertThat(dir.resolve("plugins.lock")).doesNotExist();
        try (TestGateway gateway = TestGateway.start(plugins, "")) {
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(gateway.post("/other/predict", BODY).statusCode()).isEqualTo(200);
        }
    }
}
