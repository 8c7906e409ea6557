package dev.mlserver.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.pf4j.Extension;

/**
 * A classifier that misbehaves where its mlserver.yaml says. {@code hang: open} makes
 * {@code open()} block, deaf to interrupts, until {@link #releaseAll}; {@code spin_open_ms: n}
 * makes it burn a core for n ms; {@code hang: predict} makes every prediction of {@code {"x": 99}}
 * block the same way (the warm-up example, {@code {"x": 1}}, answers). The plugin's copy of this
 * class is not the test's (plugins see only the platform), so the latch that releases them is
 * kept where both copies find it: in the JDK's system properties.
 */
@Extension
public class HangingClassifier implements Classifier {
    private static final String RELEASE = "mlserver.test.hanging-classifier.release";

    private String hang = "";

    /** Lets everything that hangs now return, and makes later hangs block anew. */
    public static synchronized void releaseAll() {
        CountDownLatch now = latch();
        System.getProperties().put(RELEASE, new CountDownLatch(1));
        now.countDown();
    }

    private static CountDownLatch latch() {
        return (CountDownLatch) System.getProperties().computeIfAbsent(RELEASE, k -> new CountDownLatch(1));
    }

    @Override
    public void open(ClassifierContext context) {
        hang = context.config().path("hang").asText("");
        long spinMs = context.config().path("spin_open_ms").asLong(0);
        if (spinMs > 0) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(spinMs);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
        }
        if (hang.equals("open")) {
            block();
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
        if (hang.equals("predict") && instances.stream().anyMatch(i -> i.path("x").asInt() == 99)) {
            block();
        }
        return instances.stream().map(i -> Prediction.of(List.of("low", "high"),
                i.path("x").asDouble() > 0 ? new float[] {0.1f, 0.9f} : new float[] {0.9f, 0.1f})).toList();
    }

    @Override
    public void close() {}

    /** Blocks until released, ignoring interrupts, as a native call or a careless loop would. */
    private static void block() {
        CountDownLatch latch = latch();
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // deaf to it
            }
        }
    }
}
