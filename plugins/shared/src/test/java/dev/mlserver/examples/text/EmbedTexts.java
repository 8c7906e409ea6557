package dev.mlserver.examples.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Training tool, not part of any plugin: embeds texts with exactly the code the plugins serve
 * with ({@link SentenceEncoder}: the Java tokenizer, one text per run, mean pooling, L2 norm).
 *
 * <p>Input: one JSON string per line. Output: little-endian float32 rows, one per input line.
 * Run by plugins/training/train_minilm_heads.py through the {@code embed} profile of this module.
 */
public final class EmbedTexts {
    private EmbedTexts() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: EmbedTexts ENCODER_ONNX TOKENIZER_JSON TEXTS_JSONL OUT_F32");
            System.exit(2);
        }
        ObjectMapper json = new ObjectMapper();
        int rows = 0;
        try (SentenceEncoder encoder = SentenceEncoder.open(Files.readAllBytes(Path.of(args[0])),
                Files.readAllBytes(Path.of(args[1])), 1);
             BufferedReader in = Files.newBufferedReader(Path.of(args[2]), StandardCharsets.UTF_8);
             OutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(Path.of(args[3]))))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                float[] embedding = encoder.embed(json.readValue(line, String.class));
                ByteBuffer buffer = ByteBuffer.allocate(embedding.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buffer.asFloatBuffer().put(embedding);
                out.write(buffer.array());
                rows++;
            }
        }
        System.out.println("embedded " + rows + " texts into " + args[3]);
    }
}
