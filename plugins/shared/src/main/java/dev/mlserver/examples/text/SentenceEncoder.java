package dev.mlserver.examples.text;

import ai.onnxruntime.OnnxTensor;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Tensors;
import java.util.HashMap;
import java.util.Map;

/**
 * A sentence-transformers encoder (all-MiniLM-L6-v2 here): WordPiece ids in, the masked mean of
 * {@code last_hidden_state} out, L2-normalised.
 *
 * <p>One text per run, never a padded batch: the quantized model scales its activations over the
 * whole input tensor, so padding changes the embedding. The session is shared by content with
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

    /** The embedding of one encoded text. */
    public float[] embed(WordPieceTokenizer.Encoding encoding) {
        long[] ids = encoding.ids();
        long[] mask = new long[ids.length];
        java.util.Arrays.fill(mask, 1L);
        Map<String, OnnxTensor> inputs = new HashMap<>();
        inputs.put("input_ids", Tensors.longs(new long[][] {ids}));
        inputs.put("attention_mask", Tensors.longs(new long[][] {mask}));
        if (typeIds) {
            inputs.put("token_type_ids", Tensors.longs(new long[][] {new long[ids.length]}));
        }
        float[] hidden = model.runFloats(inputs, "last_hidden_state")[0];
        int dim = hidden.length / ids.length;
        float[] pooled = new float[dim];
        for (int t = 0; t < ids.length; t++) {
            for (int d = 0; d < dim; d++) {
                pooled[d] += hidden[t * dim + d];
            }
        }
        double norm = 0;
        for (int d = 0; d < dim; d++) {
            pooled[d] /= ids.length;
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
