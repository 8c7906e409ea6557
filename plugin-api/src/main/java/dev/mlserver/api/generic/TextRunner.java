package dev.mlserver.api.generic;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A transformers sequence classifier: each text is tokenised by the model's own HuggingFace
 * {@code tokenizer.json}, cut at the model's maximum length, run alone (no padded batch: quantized
 * encoders scale over the whole input, so padding changes the answer), and its logits go through a
 * softmax.
 */
final class TextRunner implements Runner {
    private final OnnxModel model;
    private final Plan.Text plan;
    private final HuggingFaceTokenizer tokenizer;
    private final Set<String> outputs;

    private TextRunner(OnnxModel model, Plan.Text plan, HuggingFaceTokenizer tokenizer) {
        this.model = model;
        this.plan = plan;
        this.tokenizer = tokenizer;
        this.outputs = Set.of(plan.output());
    }

    static TextRunner create(OnnxModel model, Plan.Text plan, HuggingFaceTokenizer tokenizer) {
        return new TextRunner(model, plan, tokenizer);
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
        List<Prediction> out = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            String text;
            try {
                text = Text.of(instances.get(i), Text.DEFAULT_MAX_CHARS);
            } catch (InvalidInputException e) {
                throw instances.size() == 1 ? e : e.at(i);
            }
            out.add(classify(text));
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

    private Prediction classify(String text) {
        Encoding encoding = encode(text);
        long[] ids = encoding.getIds();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put(plan.ids(), Tensors.longs(new long[][] {ids}));
            if (!plan.mask().isEmpty()) {
                inputs.put(plan.mask(), Tensors.longs(new long[][] {encoding.getAttentionMask()}));
            }
            if (!plan.typeIds().isEmpty()) {
                inputs.put(plan.typeIds(), Tensors.longs(new long[][] {encoding.getTypeIds()}));
            }
            try (OrtSession.Result result = model.session().run(inputs, outputs)) {
                float[] logits = Tensors.floatRows(result.get(0))[0];
                Prediction prediction = Prediction.of(plan.labels(), Probabilities.softmax(logits));
                return encoding.exceedMaxLength() ? prediction.asTruncated() : prediction;
            }
        } catch (OrtException e) {
            throw new ClassifierException("model run failed: " + ModelInspection.oneLine(e.getMessage()), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
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
