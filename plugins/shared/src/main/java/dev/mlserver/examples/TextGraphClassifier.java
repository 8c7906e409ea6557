package dev.mlserver.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Batching;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Text;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * A text classifier whose whole pipeline (normalising, tokenising, vectorising, classifying) is
 * one ONNX graph with a string input: {@code [batch]} texts in, {@code [batch, labels]}
 * probabilities out, {@code labels} in the model metadata.
 *
 * <p>A text is made safe for ONNX Runtime's native strings first ({@link Text#forNative}: NULs and
 * other control characters, lone surrogates and characters beyond U+FFFF become spaces), then cut
 * to the {@code max_chars} the model was trained on (model metadata), so the model sees exactly
 * what it saw in training. Text longer than {@link Text#DEFAULT_MAX_CHARS} is refused.
 *
 * <p>One text per model run, unless {@code batching:} in {@code mlserver.yaml} ({@link Batching})
 * allows up to {@code max_texts} texts per run and the check at open shows the batched answers
 * identical on its examples; otherwise the classifier refuses to open.
 */
@Extension
public class TextGraphClassifier implements Classifier {
    private OnnxModel model;
    private List<String> labels;
    private String inputName;
    private String outputName;
    private int maxChars;
    private JsonNode example;
    private Batching batching = Batching.off();

    @Override
    public void open(ClassifierContext context) {
        Batching wanted = Batching.read(context.config());
        model = OnnxModel.open(context, context.config().path("model").asText("model.onnx"));
        try {
            labels = model.labels();
            inputName = model.inputNames().get(0);
            outputName = context.config().path("output").asText("probabilities");
            maxChars = model.metadata("max_chars").map(TextGraphClassifier::positive).orElse(Text.DEFAULT_MAX_CHARS);
            example = context.config().has("example") ? context.config().get("example") : Text.example("hello");
            batching = wanted;
            batching.check(this::predict);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public Description describe() {
        ObjectNode schema = (ObjectNode) Text.schema(Text.DEFAULT_MAX_CHARS);
        schema.put("description", "The model reads the first " + maxChars
                + " characters of the text (after control characters, lone surrogates and characters beyond U+FFFF "
                + "become spaces); the rest is ignored.");
        return new Description(labels, schema, example);
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        String[] texts = Text.all(instances, Text.DEFAULT_MAX_CHARS);
        for (int i = 0; i < texts.length; i++) {
            texts[i] = modelInput(texts[i], maxChars);
        }
        List<Prediction> out = new ArrayList<>(texts.length);
        for (List<String> run : batching.chunks(Arrays.asList(texts))) {
            String[] values = run.toArray(String[]::new);
            out.addAll(Prediction.all(labels, model.runFloats(Map.of(inputName, Tensors.strings(values, values.length)),
                    outputName)));
        }
        return out;
    }

    /** What the model is given for {@code text}: sanitised for native code, then cut to {@code maxChars}. */
    static String modelInput(String text, int maxChars) {
        String safe = Text.forNative(text);
        // forNative leaves no surrogates, so the cut cannot split a pair
        return safe.length() <= maxChars ? safe : safe.substring(0, maxChars);
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
            model = null;
        }
    }

    private static int positive(String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new ClassifierException("model metadata max_chars must be a positive whole number, got '" + value + "'");
    }
}
