package {{package}};

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.input.Tabular;
import dev.mlserver.api.onnx.OnnxModel;
import java.util.List;
{{extension_import}}
/**
 * A tabular ONNX classifier: the model takes one float matrix (one row per instance, features in
 * the order of the model metadata's {@code feature_names}) and gives class probabilities in the
 * order of its {@code labels}. {@code mlserver.yaml} may name another artifact ({@code model}) or
 * output ({@code output}).
 */
{{extension_annotation}}public {{modifier}}class {{class}} implements Classifier {
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
