package dev.mlserver.examples.text;

import ai.onnxruntime.OnnxTensor;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Tensors;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A sentence-transformers encoder (all-MiniLM-L6-v2 here): WordPiece ids in, the masked mean of
 * {@code last_hidden_state} out, L2-normalised.
 *
 * <p>One text per run unless batching was shown harmless: the quantized model scales its
 * activations over the whole input tensor, so padding changes the embedding. The session is shared by content with
 * any other plugin that ships the same encoder bytes ({@link OnnxModel}). Thread-safe.
 */
public final class SentenceEncoder implements AutoCloseable {
    private final OnnxModel model;
    private final WordPieceTokenizer tokenizer;
    private final boolean typeIds;

    private SentenceEncoder(OnnxModel model, WordPieceTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.typeIds = model.inputNames().contains("token_type_ids");
    }

    /** Opens the encoder and tokenizer artifacts of a plugin. */
    public static SentenceEncoder open(ClassifierContext context, String encoder, String tokenizer) {
        WordPieceTokenizer words = WordPieceTokenizer.fromJson(context.artifact(tokenizer));
        return new SentenceEncoder(OnnxModel.open(context, encoder), words);
    }

    /** Opens an encoder from its bytes; for tools that run outside the gateway. */
    public static SentenceEncoder open(byte[] encoder, byte[] tokenizer, int intraOpThreads) {
        return new SentenceEncoder(OnnxModel.open(encoder, intraOpThreads, "encoder"), WordPieceTokenizer.fromJson(tokenizer));
    }

    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    /** The embedding of one text. */
    public float[] embed(String text) {
        return embed(tokenizer.encode(text));
    }

    /** The embedding of one encoded text, run alone. */
    public float[] embed(WordPieceTokenizer.Encoding encoding) {
        return embedAll(List.of(encoding))[0];
    }

    /**
     * The embeddings of several encoded texts in one run, padded to the longest with id 0 and
     * attention mask 0, each pooled over its own tokens only. For a single encoding this is the
     * one-text run. A quantized encoder answers differently padded: use it only where
     * {@link dev.mlserver.api.Batching#check} has passed.
     */
    public float[][] embedAll(List<WordPieceTokenizer.Encoding> encodings) {
        int length = 0;
        for (WordPieceTokenizer.Encoding encoding : encodings) {
            length = Math.max(length, encoding.ids().length);
        }
        long[][] ids = new long[encodings.size()][length];
        long[][] mask = new long[encodings.size()][length];
        for (int i = 0; i < ids.length; i++) {
            long[] own = encodings.get(i).ids();
            System.arraycopy(own, 0, ids[i], 0, own.length);
            Arrays.fill(mask[i], 0, own.length, 1L);
        }
        Map<String, OnnxTensor> inputs = new HashMap<>();
        inputs.put("input_ids", Tensors.longs(ids));
        inputs.put("attention_mask", Tensors.longs(mask));
        if (typeIds) {
            inputs.put("token_type_ids", Tensors.longs(new long[ids.length][length]));
        }
        float[][] hidden = model.runFloats(inputs, "last_hidden_state");
        float[][] out = new float[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            out[i] = pooled(hidden[i], length, encodings.get(i).ids().length);
        }
        return out;
    }

    /** The L2-normalised mean of the first {@code tokens} of {@code length} hidden states. */
    private static float[] pooled(float[] hidden, int length, int tokens) {
        int dim = hidden.length / length;
        float[] pooled = new float[dim];
        for (int t = 0; t < tokens; t++) {
            for (int d = 0; d < dim; d++) {
                pooled[d] += hidden[t * dim + d];
            }
        }
        double norm = 0;
        for (int d = 0; d < dim; d++) {
            pooled[d] /= tokens;
            norm += (double) pooled[d] * pooled[d];
        }
        float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
        for (int d = 0; d < dim; d++) {
            pooled[d] *= scale;
        }
        return pooled;
    }

    @Override
    public void close() {
        model.close();
    }
}
