package dev.mlserver.api.generic;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Batching;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.InvalidInputException;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Text;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Probabilities;
import dev.mlserver.api.onnx.Tensors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A transformers sequence classifier: each text is tokenised by the model's own HuggingFace
 * {@code tokenizer.json}, cut at the model's maximum length, run alone (no padded batch: quantized
 * encoders scale over the whole input, so padding changes the answer), and its logits go through a
 * softmax. With {@code batching:} in the card, up to {@link Batching#maxTexts} texts of a request
 * share one call, padded to the longest, once {@link Batching#check} has passed.
 */
final class TextRunner implements Runner {
    private final OnnxModel model;
    private final Plan.Text plan;
    private final HuggingFaceTokenizer tokenizer;
    private final Set<String> outputs;
    private final Batching batching;
    private final long padId;

    private TextRunner(OnnxModel model, Plan.Text plan, HuggingFaceTokenizer tokenizer, Batching batching, long padId) {
        this.model = model;
        this.plan = plan;
        this.tokenizer = tokenizer;
        this.outputs = Set.of(plan.output());
        this.batching = batching;
        this.padId = padId;
    }

    /** One text per model call. */
    static TextRunner create(OnnxModel model, Plan.Text plan, HuggingFaceTokenizer tokenizer) {
        return new TextRunner(model, plan, tokenizer, Batching.off(), 0);
    }

    /** Up to {@code batching.maxTexts()} texts per model call, padded with {@code padId}; not yet checked. */
    static TextRunner create(OnnxModel model, Plan.Text plan, HuggingFaceTokenizer tokenizer, Batching batching,
                             long padId) {
        return new TextRunner(model, plan, tokenizer, batching, padId);
    }

    /** The id a tokenizer.json pads with ({@code padding.pad_id}); 0, BERT's {@code [PAD]}, when it sets none. */
    static long padId(JsonNode tokenizerJson) {
        return tokenizerJson.path("padding").path("pad_id").asLong(0);
    }

    /**
     * Runs {@link Batching#check} on this runner.
     *
     * @throws ClassifierException with the one-line reason when batched answers differ
     */
    void checkBatching() {
        batching.check(this::predict);
    }

    /**
     * Reads {@code tokenizer.json} with the HuggingFace tokenizers library: special tokens added,
     * truncation at {@code maxLength}, no padding.
     *
     * @throws ClassifierException naming {@code name} when the bytes are not a tokenizer
     */
    static HuggingFaceTokenizer tokenizer(byte[] json, String name, int maxLength) {
        Map<String, String> options = Map.of("addSpecialTokens", "true", "truncation", "true", "padding", "false",
                "maxLength", Integer.toString(maxLength), "modelMaxLength", Integer.toString(maxLength));
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new ClassifierException(name + " is not a HuggingFace tokenizer.json the tokenizers library reads: " + reason, e);
        }
    }

    /** The maximum length a tokenizer.json sets under {@code truncation.max_length}; 0 when none. */
    static int maxLength(JsonNode tokenizerJson) {
        return tokenizerJson.path("truncation").path("max_length").asInt(0);
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        if (batching.enabled() && instances.size() > 1) {
            String[] texts = Text.all(instances, Text.DEFAULT_MAX_CHARS);
            List<Encoding> encodings = new ArrayList<>(texts.length);
            for (int i = 0; i < texts.length; i++) {
                try {
                    encodings.add(encode(texts[i]));
                } catch (InvalidInputException e) {
                    throw e.at(i);
                }
            }
            List<Prediction> out = new ArrayList<>(texts.length);
            for (List<Encoding> chunk : batching.chunks(encodings)) {
                out.addAll(classify(chunk));
            }
            return out;
        }
        List<Prediction> out = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            String text;
            try {
                text = Text.of(instances.get(i), Text.DEFAULT_MAX_CHARS);
            } catch (InvalidInputException e) {
                throw instances.size() == 1 ? e : e.at(i);
            }
            out.add(classify(List.of(encode(text))).get(0));
        }
        return out;
    }

    private Encoding encode(String text) {
        try {
            return tokenizer.encode(text);
        } catch (RuntimeException e) {
            throw new InvalidInputException("the tokenizer cannot read this text: " + e.getMessage());
        }
    }

    /** One model call for {@code encodings}, padded to the longest when there are several. */
    private List<Prediction> classify(List<Encoding> encodings) {
        int length = encodings.stream().mapToInt(e -> e.getIds().length).max().orElse(0);
        long[][] ids = new long[encodings.size()][];
        long[][] mask = new long[encodings.size()][];
        long[][] typeIds = new long[encodings.size()][];
        for (int i = 0; i < ids.length; i++) {
            Encoding encoding = encodings.get(i);
            ids[i] = padded(encoding.getIds(), length, padId);
            mask[i] = padded(encoding.getAttentionMask(), length, 0);
            typeIds[i] = padded(encoding.getTypeIds(), length, 0);
        }
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put(plan.ids(), Tensors.longs(ids));
            if (!plan.mask().isEmpty()) {
                inputs.put(plan.mask(), Tensors.longs(mask));
            }
            if (!plan.typeIds().isEmpty()) {
                inputs.put(plan.typeIds(), Tensors.longs(typeIds));
            }
            try (OrtSession.Result result = model.session().run(inputs, outputs)) {
                float[][] logits = Tensors.floatRows(result.get(0));
                if (logits.length != encodings.size()) {
                    throw new ClassifierException("model gave " + logits.length + " rows of logits for "
                            + encodings.size() + " texts");
                }
                List<Prediction> out = new ArrayList<>(logits.length);
                for (int i = 0; i < logits.length; i++) {
                    Prediction prediction = Prediction.of(plan.labels(), Probabilities.softmax(logits[i]));
                    out.add(encodings.get(i).exceedMaxLength() ? prediction.asTruncated() : prediction);
                }
                return out;
            }
        } catch (OrtException e) {
            throw OnnxModel.runFailed(e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private static long[] padded(long[] values, int length, long pad) {
        if (values.length == length) {
            return values;
        }
        long[] out = Arrays.copyOf(values, length);
        Arrays.fill(out, values.length, length, pad);
        return out;
    }

    @Override
    public JsonNode schema() {
        ObjectNode schema = (ObjectNode) Text.schema(Text.DEFAULT_MAX_CHARS);
        schema.put("description", "The model reads the first " + plan.maxLength()
                + " tokens of the text (special tokens included); the rest is cut and the answer says \"truncated\": true.");
        return schema;
    }

    @Override
    public JsonNode example() {
        return Text.example("This is an example sentence.");
    }

    @Override
    public void close() {
        try {
            tokenizer.close();
        } finally {
            model.close();
        }
    }
}
