package dev.mlserver.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

/**
 * ONNX models shaped like real exports (skl2onnx with and without ZipMap, per-column inputs, a
 * tree ensemble, an optimum-style text classifier, hostile ones), written by
 * {@code src/test/python/export_models.py} with Debian's python3-onnx and python3-sklearn into
 * {@code target/byom-models}, once per change of the script. The text classifier is the MiniLM
 * encoder of the {@code sentiment} example plugin with its head appended in the graph.
 */
public final class ExportedModels {
    private static final Path SCRIPT = Path.of("src/test/python/export_models.py");
    private static final Path OUT = Path.of("target/byom-models");
    private static final Path SENTIMENT = Path.of("../../plugins/sentiment");
    private static final String PYTHON = "/usr/bin/python3";

    private ExportedModels() {}

    /**
     * The directory of model {@code name} (iris-zipmap, wine-trees, ..., sentiment-logits, hostile-*).
     * Surefire runs test classes in two JVMs: a file lock keeps the second from exporting again and
     * replacing the directory while the first reads it.
     */
    public static synchronized Path dir(String name) {
        try {
            String stamp = stamp();
            Path done = OUT.resolve(".done-" + stamp);
            if (!Files.exists(done)) {
                Files.createDirectories(Path.of("target"));
                try (FileChannel lock = FileChannel.open(Path.of("target/byom-models.lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock held = lock.lock()) {
                    if (!Files.exists(done)) {
                        export(stamp);
                    }
                }
            }
            return OUT.resolve(name).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The held-out rows written beside a model, with scikit-learn's answers. */
    public static JsonNode heldout(String name) {
        try {
            return TestGateway.JSON.readTree(dir(name).resolve("heldout.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sentiment plugin's held-out sentences, one JSON object a line. */
    public static Path sentimentHeldout() {
        return SENTIMENT.resolve("heldout.jsonl").toAbsolutePath();
    }

    private static void export(String stamp) throws IOException {
        Path work = Files.createDirectories(Path.of("target"));
        Path staging = Files.createTempDirectory(work, "byom-models-");
        Path minilm = Files.createDirectories(staging.resolve("minilm"));
        Path encoder = minilm.resolve("encoder.onnx");
        Path tokenizer = minilm.resolve("tokenizer.json");
        try (JarFile jar = new JarFile(TestGateway.examplePlugins().resolve("sentiment.jar").toFile())) {
            copy(jar, "artifacts/all-minilm-l6-v2-q.onnx", encoder);
            copy(jar, "artifacts/all-minilm-l6-v2-q-tokenizer.json", tokenizer);
        }
        Process p = new ProcessBuilder(PYTHON, SCRIPT.toString(), staging.toString(), encoder.toString(),
                tokenizer.toString(), SENTIMENT.resolve("artifacts/head.onnx").toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException("export_models.py failed (install python3-onnx python3-sklearn):\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Files.writeString(staging.resolve(".done-" + stamp), output);
        if (Files.exists(OUT)) {
            try (var files = Files.walk(OUT)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.move(staging, OUT, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void copy(JarFile jar, String entry, Path to) throws IOException {
        try (InputStream in = jar.getInputStream(jar.getEntry(entry))) {
            Files.copy(in, to);
        }
    }

    private static String stamp() throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(SCRIPT));
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
