package dev.mlserver.api.generic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import java.util.List;

/**
 * The platform's generic ONNX classifier: serves a model from {@code model.onnx} and
 * {@code mlserver.yaml} (plus {@code tokenizer.json} and {@code config.json} for text) with no
 * Java. It takes the shapes exporters write:
 * <ul>
 *   <li>scikit-learn through skl2onnx: {@code output_label} and a ZipMap {@code output_probability}
 *       (string or int64 keys), or with {@code zipmap=False} a label and a probability tensor;
 *       one float matrix input, or one input per column of float, int64 or string;</li>
 *   <li>tree ensembles ({@code TreeEnsembleClassifier}, int64 labels);</li>
 *   <li>transformers sequence classifiers as optimum exports them: {@code input_ids},
 *       {@code attention_mask}, optional {@code token_type_ids} in, {@code logits} out, with the
 *       HuggingFace {@code tokenizer.json} and {@code config.json} ({@code id2label}).</li>
 * </ul>
 * Labels come from {@code labels:} in mlserver.yaml, else config.json's {@code id2label}, else
 * the model's {@code labels} metadata, else the graph's class labels.
 *
 * <p>A model-only plugin jar (no classes) is served by this class; a code plugin may extend it
 * (declare it as its {@code @Extension}) to add what the generic classifier cannot do.
 */
public class OnnxClassifier implements Classifier {
    private ModelInspection model;

    @Override
    public void open(ClassifierContext context) {
        ModelInspection inspected = ModelInspection.of(ModelFiles.of(context), context.config(), context.intraOpThreads(),
                context.name());
        if (!inspected.ok()) {
            inspected.close();
            throw new ClassifierException(inspected.summary());
        }
        model = inspected;
    }

    /** The opened model, for subclasses. */
    protected ModelInspection model() {
        if (model == null) {
            throw new ClassifierException("the classifier is not open");
        }
        return model;
    }

    @Override
    public Description describe() {
        return model().description();
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        return model().predict(instances);
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
            model = null;
        }
    }
}
