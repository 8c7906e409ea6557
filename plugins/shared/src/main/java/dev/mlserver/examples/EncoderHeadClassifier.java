package dev.mlserver.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Batching;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Text;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.api.onnx.Tensors;
import dev.mlserver.examples.text.SentenceEncoder;
import dev.mlserver.examples.text.WordPieceTokenizer;
import java.util.ArrayList;
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
 *
 * <p>One text per encoder and head run: the answer for a text never depends on the other texts
 * of a request. {@code batching:} in {@code mlserver.yaml} ({@link Batching}) runs up to
 * {@code max_texts} texts per run, padded, only when the check at open shows identical answers on
 * its examples; the quantized MiniLM of the example family fails it, so the classifier refuses to
 * open.
 */
@Extension
public class EncoderHeadClassifier implements Classifier {
    private SentenceEncoder encoder;
    private OnnxModel head;
    private List<String> labels;
    private String headInput;
    private JsonNode example;
    private Batching batching = Batching.off();

    @Override
    public void open(ClassifierContext context) {
        JsonNode config = context.config();
        Batching wanted = Batching.read(config);
        encoder = SentenceEncoder.open(context, config.path("encoder").asText("encoder.onnx"),
                config.path("tokenizer").asText("tokenizer.json"));
        try {
            head = OnnxModel.open(context, config.path("head").asText("head.onnx"));
            labels = head.labels();
            headInput = head.inputNames().get(0);
            example = config.has("example") ? config.get("example") : Text.example("hello");
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
        schema.put("description", "Only the first " + encoder.tokenizer().maxLength()
                + " WordPiece tokens ([CLS] and [SEP] included) are read; the rest of a longer text is ignored.");
        return new Description(labels, schema, example);
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        String[] texts = Text.all(instances, Text.DEFAULT_MAX_CHARS);
        List<WordPieceTokenizer.Encoding> encodings = new ArrayList<>(texts.length);
        for (String text : texts) {
            encodings.add(encoder.tokenizer().encode(text));
        }
        List<Prediction> out = new ArrayList<>(texts.length);
        for (List<WordPieceTokenizer.Encoding> run : batching.chunks(encodings)) {
            float[][] probabilities = head.runFloats(Map.of(headInput, Tensors.floats(encoder.embedAll(run))), "probabilities");
            out.addAll(Prediction.all(labels, probabilities));
        }
        return out;
    }

    @Override
    public void close() {
        if (encoder != null) {
            encoder.close();
            encoder = null;
        }
        if (head != null) {
            head.close();
            head = null;
        }
    }
}
