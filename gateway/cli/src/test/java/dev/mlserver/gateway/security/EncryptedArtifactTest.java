package dev.mlserver.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real iris model, encrypted with `ml_server encrypt-artifact` and re-packed into a plugin
 * jar as artifacts/model.onnx.enc, served beside the clear iris plugin.
 */
class EncryptedArtifactTest {
    static final String MODEL = "artifacts/model.onnx";
    static final String BODY = "{\"payload\": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]}";

    @TempDir
    Path dir;
    Path plugins;
    Path iris;
    Path key;
    byte[] clearModel;

    @BeforeEach
    void setUp() throws IOException {
        plugins = Files.createDirectories(dir.resolve("plugins"));
        iris = Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        clearModel = PluginJars.entryOf(iris, MODEL);
        key = dir.resolve("secret.key");
    }

    /** Encrypts the iris model with the CLI and packs it as classifier "secret". */
    Path encryptedPlugin(Path keyFile, boolean generateKey) throws IOException {
        Path model = Files.write(dir.resolve("model.onnx"), clearModel);
        Path sealed = dir.resolve("model.onnx.enc");
        Files.deleteIfExists(sealed);
        List<String> args = new java.util.ArrayList<>(List.of("encrypt-artifact", "--key-file", keyFile.toString(), model.toString()));
        if (generateKey) {
            args.add(1, "--generate-key");
        }
        Cli.Result result = Cli.run(args.toArray(String[]::new));
        assertThat(result.exit()).as(result.err()).isZero();
        assertThat(result.out()).contains("wrote " + sealed);
        byte[] encrypted = Files.readAllBytes(sealed);
        Path renamed = PluginJars.renamed(iris, dir, "secret", "1.0.0");
        return PluginJars.rewritten(renamed, plugins.resolve("secret.jar"), entries -> {
            Map<String, byte[]> out = new LinkedHashMap<>(entries);
            out.remove(MODEL);
            out.put(MODEL + ".enc", encrypted);
            return out;
        });
    }

    String keys(Path keyFile) {
        return "security:\n  artifact_keys:\n    secret:\n      key_file: " + keyFile + "\n";
    }

    static JsonNode plugin(TestGateway gateway, String jar) {
        return PluginIntegrityTest.plugin(gateway, jar);
    }

    @Test
    void anEncryptedModelServesTheSamePredictionsWithTheRightKey() throws IOException {
        Path jar = encryptedPlugin(key, true);
        assertThat(Files.readString(key).strip()).hasSize(44);
        try (var entries = new java.util.jar.JarFile(jar.toFile())) {
            assertThat(entries.getJarEntry(MODEL)).as("the clear model is not in the jar").isNull();
            assertThat(entries.getJarEntry(MODEL + ".enc")).isNotNull();
        }
        try (TestGateway gateway = TestGateway.start(plugins, keys(key))) {
            var secret = gateway.post("/secret/predict_proba", BODY);
            assertThat(secret.statusCode()).as(secret.body()).isEqualTo(200);
            JsonNode clear = TestGateway.json(gateway.post("/iris/predict_proba", BODY)).get("predictions");
            assertThat(TestGateway.json(secret).get("predictions")).isEqualTo(clear);
            assertThat(TestGateway.json(gateway.post("/secret/predict", BODY)).get("predictions"))
                    .extracting(JsonNode::asText).containsExactly("setosa", "virginica", "versicolor");
        }
    }

    @Test
    void aWrongKeyFailsThatClassifierCleanlyAndTheRestServe() throws IOException {
        encryptedPlugin(key, true);
        Path wrong = dir.resolve("wrong.key");
        Files.writeString(wrong, Base64.getEncoder().encodeToString(new byte[32]) + "\n");
        try (TestGateway gateway = TestGateway.start(plugins, keys(wrong))) {
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(gateway.post("/secret/predict", BODY).statusCode()).isEqualTo(404);
            JsonNode secret = plugin(gateway, "secret.jar");
            assertThat(secret.get("state").asText()).isEqualTo("failed");
            assertThat(secret.get("reason").asText())
                    .contains("artifact 'model.onnx' cannot be decrypted with the key(s) from file " + wrong)
                    .contains("wrong key");
        }
    }

    @Test
    void noConfiguredKeyNamesTheMissingKey() throws IOException {
        encryptedPlugin(key, true);
        try (TestGateway gateway = TestGateway.start(plugins, "")) {
            assertThat(plugin(gateway, "secret.jar").get("reason").asText())
                    .contains("is encrypted (artifacts/model.onnx.enc) but security.artifact_keys has no key for 'secret'");
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anAlteredEncryptedModelIsRefused() throws IOException {
        Path jar = encryptedPlugin(key, true);
        PluginJars.rewritten(jar, dir.resolve("tmp.jar"), entries -> {
            byte[] sealed = entries.get(MODEL + ".enc").clone();
            sealed[sealed.length / 2] ^= 0x01;
            entries.put(MODEL + ".enc", sealed);
            return entries;
        });
        Files.move(dir.resolve("tmp.jar"), jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (TestGateway gateway = TestGateway.start(plugins, keys(key))) {
            assertThat(plugin(gateway, "secret.jar").get("reason").asText()).contains("cannot be decrypted").contains("altered");
        }
    }

    @Test
    void aRotationKeyFileWithTheNewKeyFirstStillOpensArtifactsSealedWithTheOldOne() throws IOException {
        encryptedPlugin(key, true);
        String old = Files.readString(key).strip();
        Path rotated = Files.writeString(dir.resolve("rotated.key"),
                Base64.getEncoder().encodeToString(new byte[32]) + "\n" + old + "\n");
        try (TestGateway gateway = TestGateway.start(plugins, keys(rotated))) {
            assertThat(gateway.post("/secret/predict", BODY).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aKeyFromTheEnvironmentWorks() throws IOException {
        encryptedPlugin(key, true);
        String yaml = "security:\n  artifact_keys:\n    \"*\":\n      key_env: MLSERVER_KEY\n";
        try (TestGateway gateway = TestGateway.start(plugins, yaml, Map.of("MLSERVER_KEY", Files.readString(key).strip()))) {
            assertThat(gateway.post("/secret/predict", BODY).statusCode()).isEqualTo(200);
            assertThat(gateway.post("/iris/predict", BODY).statusCode()).as("clear artifacts need no key").isEqualTo(200);
        }
    }

    @Test
    void theClearModelIsNeverWrittenToTheWorkDirectory() throws IOException {
        encryptedPlugin(key, true);
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.delete(iris); // only the encrypted plugin: the clear model must not appear anywhere in work/
        try (TestGateway gateway = TestGateway.start(plugins, keys(key) + "plugins:\n  work_dir: " + work + "\n")) {
            assertThat(gateway.post("/secret/predict", BODY).statusCode()).isEqualTo(200);
            try (Stream<Path> files = Files.walk(work)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    assertThat(contains(Files.readAllBytes(file), clearModel)).as(file.toString()).isFalse();
                }
            }
        }
    }

    @Test
    void theFileFormatIsMagicVersionNonceThenCiphertextAndTag() {
        byte[] k = EncryptedArtifact.newKey();
        byte[] sealed = EncryptedArtifact.encrypt("hello".getBytes(StandardCharsets.UTF_8), k);
        assertThat(new String(sealed, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("MLSE");
        assertThat(sealed[4]).isEqualTo((byte) 1);
        assertThat(sealed[5]).isEqualTo((byte) 12);
        assertThat(sealed).hasSize(18 + 5 + 16);
        assertThat(EncryptedArtifact.decrypt(sealed, List.of(k))).hasValueSatisfying(
                clear -> assertThat(new String(clear, StandardCharsets.UTF_8)).isEqualTo("hello"));
        byte[] otherNonce = EncryptedArtifact.encrypt("hello".getBytes(StandardCharsets.UTF_8), k);
        assertThat(Arrays.copyOfRange(otherNonce, 6, 18)).isNotEqualTo(Arrays.copyOfRange(sealed, 6, 18));
    }

    @Test
    void aChangedHeaderFailsAuthentication() {
        byte[] k = EncryptedArtifact.newKey();
        byte[] sealed = EncryptedArtifact.encrypt(new byte[100], k);
        sealed[10] ^= 0x01; // inside the nonce: authenticated as additional data
        assertThat(EncryptedArtifact.decrypt(sealed, List.of(k))).isEmpty();
    }

    @Test
    void aFileInAnotherFormatSaysSo() {
        assertThatThrownBy(() -> EncryptedArtifact.decrypt(new byte[64], List.of(EncryptedArtifact.newKey())))
                .hasMessageContaining("does not start with \"MLSE\"");
    }

    @Test
    void generateKeyRefusesToOverwriteAKey() throws IOException {
        Files.writeString(key, "existing\n");
        Files.write(dir.resolve("m.onnx"), clearModel);
        Cli.Result result = Cli.run("encrypt-artifact", "--generate-key", "--key-file",
                key.toString(), dir.resolve("m.onnx").toString());
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("exists; not overwriting a key");
        assertThat(Files.readString(key)).isEqualTo("existing\n");
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        // a 64-byte window from the middle of the clear model is enough to recognise it
        byte[] window = Arrays.copyOfRange(needle, needle.length / 2, needle.length / 2 + 64);
        outer:
        for (int i = 0; i + window.length <= haystack.length; i++) {
            for (int j = 0; j < window.length; j++) {
                if (haystack[i + j] != window[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
