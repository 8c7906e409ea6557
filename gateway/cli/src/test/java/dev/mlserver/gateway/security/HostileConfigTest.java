package dev.mlserver.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.cli.MlServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile or broken files given to {@code ml_server serve --config}: each fails before anything
 * listens, with exit code 1 and one clear line, never a stack trace.
 */
class HostileConfigTest {
    @TempDir
    Path dir;

    record Run(int code, String err) {}

    Run serve(String yaml) throws IOException {
        return serve(Files.writeString(dir.resolve("gateway.yaml"), yaml));
    }

    static Run serve(Path config) {
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setErr(capture);
            int code = MlServer.commandLine().execute("serve", "--port", "0", "--config", config.toString());
            return new Run(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    static void assertRefused(Run run, String reason) {
        assertThat(run.code()).as(run.err()).isEqualTo(1);
        assertThat(run.err()).startsWith("ml_server: ").contains(reason);
        assertThat(run.err().strip().lines()).as("one line").hasSize(1);
        assertThat(run.err()).doesNotContain("Exception", "\tat ");
    }

    @Test
    void billionLaughsIsRefusedAtTheAliasLimit() throws IOException {
        StringBuilder yaml = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int level = 1; level < 10; level++) {
            yaml.append("a").append(level).append(": &a").append(level).append(" [");
            for (int i = 0; i < 9; i++) {
                yaml.append(i == 0 ? "" : ", ").append("*a").append(level - 1);
            }
            yaml.append("]\n");
        }
        assertRefused(serve(yaml.toString()), "Number of aliases for non-scalar nodes exceeds the specified max=50");
    }

    @Test
    void deepNestingIsRefusedAtTheDepthLimit() throws IOException {
        assertRefused(serve("server: " + "[".repeat(5000) + "]".repeat(5000) + "\n"), "Nesting Depth exceeded max 32");
    }

    @Test
    void aHugeFileIsRefusedBeforeParsing() throws IOException {
        String line = "# " + "x".repeat(1022) + "\n";
        assertRefused(serve(line.repeat(2048)), "larger than 1048576 bytes");
    }

    @Test
    void aJavaTypeTagIsRefused() throws IOException {
        Path marker = dir.resolve("constructed");
        Run run = serve("server: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"file://"
                + marker + "\"]]]]\n");
        assertRefused(run, "Global tag is not allowed: tag:yaml.org,2002:javax.script.ScriptEngineManager");
        assertThat(marker).doesNotExist();
    }

    @Test
    void aLocalTagIsRefused() throws IOException {
        assertRefused(serve("server: !exec {cmd: id}\n"), "could not determine a constructor for the tag !exec");
    }

    @Test
    void aDuplicateKeyIsRefused() throws IOException {
        assertRefused(serve("server:\n  port: 1\n  port: 2\n"), "found duplicate key port");
    }

    @Test
    void binaryGarbageIsRefused() throws IOException {
        byte[] garbage = new byte[4096];
        new java.util.Random(7).nextBytes(garbage);
        assertRefused(serve(Files.write(dir.resolve("garbage.yaml"), garbage)), "not UTF-8 text");
    }

    @Test
    void aMissingFileIsRefused() {
        assertRefused(serve(dir.resolve("absent.yaml")), "no such file");
    }

    @Test
    void aMisspeltSecurityKeyIsRefused() throws IOException {
        assertRefused(serve("securty:\n  tokens: {}\n"), "unknown key securty");
    }

    @Test
    void aTokenFileThatDoesNotExistIsRefused() throws IOException {
        assertRefused(serve("security:\n  tokens:\n    team:\n      token_file: " + dir.resolve("nope")
                + "\n      classifiers: [iris]\n"), "security.tokens.team.token_file: no such file");
    }

    @Test
    void aShortTokenIsRefusedWithoutShowingIt() throws IOException {
        Path token = Files.writeString(dir.resolve("t"), "shorty\n");
        Run run = serve("security:\n  tokens:\n    team:\n      token_file: " + token + "\n      classifiers: [iris]\n");
        assertRefused(run, "every token must be at least 16");
        assertThat(run.err()).doesNotContain("shorty");
    }

    @Test
    void aMissingTokenVariableIsRefused() throws IOException {
        assertRefused(serve("security:\n  tokens:\n    team:\n      token_env: MLSERVER_TEST_NO_SUCH_VARIABLE_41\n"
                + "      classifiers: [iris]\n"), "environment variable MLSERVER_TEST_NO_SUCH_VARIABLE_41 is not set");
    }

    @Test
    void aGrantOfNothingIsRefused() throws IOException {
        Path token = Files.writeString(dir.resolve("t"), "0123456789abcdef0123\n");
        assertRefused(serve("security:\n  tokens:\n    team:\n      token_file: " + token + "\n"), "grants nothing");
    }

    @Test
    void aKeyThatIsNotBase64IsRefusedWithoutShowingIt() throws IOException {
        Path key = Files.writeString(dir.resolve("k"), "this is not a key!\n");
        Run run = serve("security:\n  artifact_keys:\n    iris:\n      key_file: " + key + "\n");
        assertRefused(run, "security.artifact_keys.iris: a key must be base64");
        assertThat(run.err()).doesNotContain("this is not a key");
    }

    @Test
    void aKeyOfTheWrongLengthIsRefused() throws IOException {
        Path key = Files.writeString(dir.resolve("k"), java.util.Base64.getEncoder().encodeToString(new byte[16]));
        assertRefused(serve("security:\n  artifact_keys:\n    iris:\n      key_file: " + key + "\n"), "a key must be 32 bytes");
    }

    @Test
    void anUnknownIntegrityModeIsRefused() throws IOException {
        assertRefused(serve("plugins:\n  integrity: paranoid\n"), "plugins.integrity must be off, warn or strict");
    }
}
