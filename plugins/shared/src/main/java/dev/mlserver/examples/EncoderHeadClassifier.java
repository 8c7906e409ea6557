package dev.mlserver.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Text;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Tensors;
import dev.mlserver.examples.text.SentenceEncoder;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * A text classifier made of a pretrained sentence encoder and a small trained head: each text is
 * tokenised in Java, embedded by the encoder one text per run, and the head (an ONNX graph from
 * embedding to probabilities, {@code labels} in its metadata) classifies the embeddings.
 *
 * <p>Artifacts, named in {@code mlserver.yaml}: {@code encoder} (ONNX), {@code tokenizer}
 * (HuggingFace tokenizer.json), {@code head} (ONNX). Word pieces beyond the tokenizer's limit
 * (128 ids for MiniLM, {@code [CLS]} and {@code [SEP]} included) are not read: the prediction is
 * for the beginning of a long text.
 */
@Extension
public class EncoderHeadClassifier implements Classifier {
    private SentenceEncoder encoder;
    private OnnxModel head;
    private List<String> labels;
    private String headInput;
    private JsonNode example;

    @Override
    public void open(ClassifierContext context) {
        JsonNode config = context.config();
        encoder = SentenceEncoder.open(context, config.path("encoder").asText("encoder.onnx"),
                config.path("tokenizer").asText("tokenizer.json"));
        head = OnnxModel.open(context, config.path("head").asText("head.onnx"));
        labels = head.labels();
        headInput = head.inputNames().get(0);
        example = config.has("example") ? config.get("example") : Text.example("hello");
    }

    @Override
    public Description describe() {
        ObjectNode schema = (ObjectNode) Text.schema(Text.DEFAULT_MAX_CHARS);
        schema.put("description", "Only the first " + encoder.tokenizer().maxLength()
                + " WordPiece tokens ([CLS] and [SEP] included) are read; the rest of a longer text is ignored.");
        return new Description(labels, schema, example);
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        String[] texts = Text.all(instances, Text.DEFAULT_MAX_CHARS);
        float[][] embeddings = new float[texts.length][];
        for (int i = 0; i < texts.length; i++) {
            embeddings[i] = encoder.embed(texts[i]);
        }
        float[][] probabilities = head.runFloats(Map.of(headInput, Tensors.floats(embeddings)), "probabilities");
        return Prediction.all(labels, probabilities);
    }

    @Override
    public void close() {
        if (encoder != null) {
            encoder.close();
        }
        if (head != null) {
            head.close();
        }
    }
}
