package dev.mlserver.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.Description;
import dev.mlserver.api.InvalidInputException;
import dev.mlserver.api.Prediction;
import java.util.List;
import org.pf4j.Extension;

/**
 * A classifier for gateway tests, steered by its mlserver.yaml: {@code {"x": n}} is "high" when
 * n &gt; {@code threshold} (0 unless set). {@code sleep_ms} makes each prediction slow;
 * {@code fail: open} or {@code fail: warmup} makes it fail there.
 */
@Extension
public class FixtureClassifier implements Classifier {
    private long sleepMs;
    private double threshold;
    private String fail = "";

    @Override
    public void open(ClassifierContext context) {
        sleepMs = context.config().path("sleep_ms").asLong(0);
        threshold = context.config().path("threshold").asDouble(0);
        fail = context.config().path("fail").asText("");
        if (fail.equals("open")) {
            throw new ClassifierException("fixture refuses to open");
        }
    }

    @Override
    public Description describe() {
        var schema = JsonNodeFactory.instance.objectNode().put("type", "object");
        schema.putObject("properties").putObject("x").put("type", "number");
        return new Description(List.of("low", "high"), schema, JsonNodeFactory.instance.objectNode().put("x", 1));
    }

    @Override
    public List<Prediction> predict(List<JsonNode> instances) {
        if (fail.equals("warmup")) {
            throw new ClassifierException("fixture fails every prediction");
        }
        if (sleepMs > 0) {
            try {
                Thread.sleep(sleepMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return instances.stream().map(this::one).toList();
    }

    private Prediction one(JsonNode instance) {
        JsonNode x = instance.path("x");
        if (!x.isNumber()) {
            throw new InvalidInputException("'x' must be a number");
        }
        float p = x.doubleValue() > threshold ? 0.9f : 0.1f;
        return Prediction.of(List.of("low", "high"), new float[] {1 - p, p});
    }

    @Override
    public void close() {}
}
