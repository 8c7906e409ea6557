package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.SecurityConfig;
import dev.mlserver.gateway.security.EncryptedArtifact;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "encrypt-artifact",
        mixinStandardHelpOptions = true,
        description = {"Encrypt a model artifact with AES-256-GCM for artifacts/<name>.enc in a plugin jar.",
            "The gateway decrypts it in memory with the key from security.artifact_keys (see SECURITY.md)."},
        footer = {"", "Examples:",
            "  ml_server encrypt-artifact --key-file iris.key --generate-key model.onnx",
            "      # a new key in iris.key, and model.onnx.enc",
            "  MLSERVER_KEY_IRIS=$(cat iris.key) ml_server encrypt-artifact \\",
            "      --key-env MLSERVER_KEY_IRIS \\",
            "      --output plugins/iris/artifacts/model.onnx.enc model.onnx"})
final class EncryptArtifactCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    KeySource key;

    static final class KeySource {
        @Option(names = "--key-file", paramLabel = "FILE", description = "file with the base64 key (the first line is used)")
        Path file;

        @Option(names = "--key-env", paramLabel = "NAME", description = "environment variable holding the base64 key")
        String env;
    }

    @Option(names = "--generate-key", description = "write a new random key to --key-file first (refuses to overwrite)")
    boolean generateKey;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "where to write (default: INPUT.enc)")
    Path output;

    @Parameters(paramLabel = "INPUT", description = "the clear artifact, e.g. model.onnx")
    Path input;

    Map<String, String> env = System.getenv();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path target = output != null ? output : input.resolveSibling(input.getFileName() + EncryptedArtifact.SUFFIX);
        try {
            if (target.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
                throw new ParameterException(spec.commandLine(), "the output must not be the input");
            }
            if (generateKey) {
                if (key.file == null) {
                    throw new ParameterException(spec.commandLine(), "--generate-key needs --key-file");
                }
                writeNewKey(key.file);
                out.println("wrote a new key to " + key.file + " (keep it secret; it is not shown)");
            }
            byte[] secret = readKey();
            byte[] clear = Files.readAllBytes(input);
            byte[] sealed = EncryptedArtifact.encrypt(clear, secret);
            Files.write(target, sealed);
            out.println("wrote " + target + " (" + sealed.length + " bytes, AES-256-GCM, format version "
                    + EncryptedArtifact.VERSION + ", from " + clear.length + " clear bytes)");
            return 0;
        } catch (FileAlreadyExistsException e) {
            throw new ToolException(e.getFile() + " exists; not overwriting a key", e);
        } catch (NoSuchFileException e) {
            throw new ToolException("no such file " + e.getFile(), e);
        } catch (IOException e) {
            throw new ToolException(e.toString(), e);
        }
    }

    private byte[] readKey() throws IOException {
        if (key.env != null) {
            String value = env.get(key.env);
            if (value == null || value.isBlank()) {
                throw new ConfigException("environment variable " + key.env + " is not set or empty");
            }
            return SecurityConfig.decodeKey(value, "--key-env " + key.env);
        }
        String first = Files.readString(key.file, StandardCharsets.UTF_8).strip().split("\n", 2)[0];
        return SecurityConfig.decodeKey(first, "--key-file " + key.file);
    }

    private static void writeNewKey(Path file) throws IOException {
        byte[] text = (Base64.getEncoder().encodeToString(EncryptedArtifact.newKey()) + "\n").getBytes(StandardCharsets.US_ASCII);
        Files.write(file, text, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the file keeps the default permissions
        }
    }
}
