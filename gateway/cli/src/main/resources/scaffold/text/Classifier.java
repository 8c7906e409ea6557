package {{package}};

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Text;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Tensors;
import java.util.List;
import java.util.Locale;
import java.util.Map;
{{extension_import}}
/**
 * A text ONNX classifier whose whole pipeline (tokenizer, TF-IDF, linear layer, softmax) is in
 * the graph: it takes a string tensor {@code text} and gives {@code probabilities} in the order of
 * the model metadata's {@code labels}. Each instance is {@code {"text": "..."}} or a string.
 */
{{extension_annotation}}public {{modifier}}class {{class}} implements Classifier {
    private OnnxModel model;
    private List<String> labels;
    private int maxChars;
    private JsonNode example;

    @Override
    public void open(ClassifierContext context) {
        model = OnnxModel.open(context, context.config().path("model").asText("model.onnx"));
        labels = model.labels();
        maxChars = context.config().path("max_chars").asInt(Text.DEFAULT_MAX_CHARS);
        example = context.config().has("example") ? context.config().get("example") : Text.example("a short example");
    }

    @Override
    public Description describe() {
        return new Description(labels, Text.schema(maxChars), example);
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        String[] texts = Text.all(instances, maxChars);
        for (int i = 0; i < texts.length; i++) {
            // the model was trained on lower-cased text; ONNX Runtime's native strings take no NUL or emoji
            texts[i] = Text.forNative(texts[i].toLowerCase(Locale.ROOT));
        }
        float[][] probabilities = model.runFloats(Map.of("text", Tensors.strings(texts, texts.length)), "probabilities");
        return Prediction.all(labels, probabilities);
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
        }
    }
}
