package dev.mlserver.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Tabular;
import dev.mlserver.api.onnx.OnnxModel;
import java.util.List;
import org.pf4j.Extension;

/**
 * Any tabular ONNX classifier whose model takes one float matrix and gives class probabilities,
 * with {@code labels} and {@code feature_names} in its metadata. One class, many plugins: each
 * plugin jar brings only its {@code artifacts/model.onnx} and {@code mlserver.yaml}.
 */
@Extension
public class TabularClassifier implements Classifier {
    private OnnxModel model;
    private Tabular input;
    private List<String> labels;
    private String inputName;
    private String outputName;
    private JsonNode example;

    @Override
    public void open(ClassifierContext context) {
        model = OnnxModel.open(context, context.config().path("model").asText("model.onnx"));
        labels = model.labels();
        input = Tabular.of(model.featureNames());
        inputName = model.inputNames().get(0);
        outputName = context.config().path("output").asText("probabilities");
        example = context.config().has("example") ? context.config().get("example") : input.example();
    }

    @Override
    public Description describe() {
        return new Description(labels, input.schema(), example);
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        float[][] probabilities = model.runFloats(inputName, input.rows(instances), outputName);
        return Prediction.all(labels, probabilities);
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
        }
    }
}
