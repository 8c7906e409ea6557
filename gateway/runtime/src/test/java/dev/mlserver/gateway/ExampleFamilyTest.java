package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.api.Classifier;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reactor-built example family as the gateway loads it: shared classes, shared encoder. */
class ExampleFamilyTest {

    static Path copy(Path dir, String... names) throws IOException {
        for (String name : names) {
            Files.copy(TestGateway.examplePlugins().resolve(name + ".jar"), dir.resolve(name + ".jar"));
        }
        return dir;
    }

    @Test
    void irisAndWineAreServedByTheOneSharedTabularClass(@TempDir Path dir) throws IOException {
        try (TestGateway gateway = TestGateway.start(copy(dir, "iris", "wine"))) {
            Classifier iris = gateway.gateway().registry().find("iris").orElseThrow().classifier();
            Classifier wine = gateway.gateway().registry().find("wine").orElseThrow().classifier();
            assertThat(iris.getClass().getName()).isEqualTo("dev.mlserver.examples.TabularClassifier");
            assertThat(wine.getClass().getName()).isEqualTo(iris.getClass().getName());
            // each plugin jar carries its own copy, loaded by its own class loader
            assertThat(wine.getClass().getClassLoader()).isNotSameAs(iris.getClass().getClassLoader());
            assertThat(iris.describe().labels()).containsExactly("setosa", "versicolor", "virginica");
            assertThat(wine.describe().labels()).containsExactly("class_0", "class_1", "class_2");
        }
    }

    @Test
    void sentimentAndTopicHoldOneEncoderSessionBetweenThem(@TempDir Path one, @TempDir Path both) throws IOException {
        int before = OnnxModel.openSessions();
        try (TestGateway gateway = TestGateway.start(copy(one, "sentiment"))) {
            assertThat(gateway.gateway().registry().find("sentiment")).isPresent();
            assertThat(OnnxModel.openSessions() - before).as("encoder + head").isEqualTo(2);
        }
        assertThat(OnnxModel.openSessions()).isEqualTo(before);
        try (TestGateway gateway = TestGateway.start(copy(both, "sentiment", "topic"))) {
            assertThat(gateway.gateway().registry().find("topic")).isPresent();
            assertThat(OnnxModel.openSessions() - before).as("one encoder + two heads").isEqualTo(3);
        }
        assertThat(OnnxModel.openSessions()).isEqualTo(before);
    }
}
