package dev.mlserver.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.google.common.collect.ImmutableList;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import java.util.List;
import org.pf4j.Extension;

/**
 * A classifier that uses Guava, a library the platform does not offer: it loads only from a jar
 * that bundles Guava. Its labels come from an {@link ImmutableList}.
 */
@Extension
public class GuavaClassifier implements Classifier {
    private ImmutableList<String> labels;

    @Override
    public void open(ClassifierContext context) {
        labels = ImmutableList.of("low", "high");
    }

    @Override
    public Description describe() {
        var schema = JsonNodeFactory.instance.objectNode().put("type", "object");
        return new Description(labels, schema, JsonNodeFactory.instance.objectNode().put("x", 1));
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        return instances.stream().map(i -> Prediction.of(labels, new float[] {0.25f, 0.75f})).toList();
    }

    @Override
    public void close() {}
}
