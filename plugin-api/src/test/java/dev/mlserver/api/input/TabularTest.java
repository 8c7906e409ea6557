package dev.mlserver.api.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TabularTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Tabular iris = Tabular.of(List.of("sepal_length", "sepal_width", "petal_length", "petal_width"));

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void anArrayOrAnObjectGivesTheRowInFeatureOrder() throws Exception {
        assertThat(iris.row(json("[5.1, 3.5, 1.4, 0.2]"))).containsExactly(5.1f, 3.5f, 1.4f, 0.2f);
        assertThat(iris.row(json("{\"petal_width\": 0.2, \"petal_length\": 1.4, \"sepal_width\": 3.5, \"sepal_length\": 5.1}")))
                .containsExactly(5.1f, 3.5f, 1.4f, 0.2f);
    }

    @Test
    void aWrongCountAMissingOrUnknownFeatureAndANonNumberAreRefused() throws Exception {
        assertThatThrownBy(() -> iris.row(json("[1, 2, 3]"))).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("expected 4 feature values");
        assertThatThrownBy(() -> iris.row(json("{\"sepal_length\": 1}"))).hasMessageStartingWith("missing feature 'sepal_width'");
        assertThatThrownBy(() -> iris.row(json("{\"sepal_length\": 1, \"sepal_width\": 1, \"petal_length\": 1,"
                + " \"petal_width\": 1, \"colour\": 2}"))).hasMessageStartingWith("unknown feature 'colour'");
        assertThatThrownBy(() -> iris.row(json("[1, 2, \"3\", 4]"))).hasMessage("feature 'petal_length' must be a number");
        assertThatThrownBy(() -> iris.row(json("[1, 2, 1e300, 4]"))).hasMessage("feature 'petal_length' is out of range");
        assertThatThrownBy(() -> iris.row(json("\"text\""))).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void rowsNamesTheRefusedInstanceOfABatch() throws Exception {
        assertThatThrownBy(() -> iris.rows(List.of(json("[1, 2, 3, 4]"), json("[1]"))))
                .hasMessageStartingWith("instance 1: expected 4 feature values");
        assertThat(iris.rows(List.of(json("[1, 2, 3, 4]"), json("[5, 6, 7, 8]")))).hasDimensions(2, 4);
    }

    @Test
    void theSchemaAndExampleNameEveryFeature() {
        assertThat(iris.schema().at("/oneOf/0/required")).hasSize(4);
        assertThat(iris.schema().at("/oneOf/1/maxItems").asInt()).isEqualTo(4);
        assertThat(iris.example(5.1f, 3.5f).get("sepal_width").floatValue()).isEqualTo(3.5f);
        assertThat(iris.example().get("petal_width").floatValue()).isZero();
    }

    @Test
    void noFeaturesIsAnError() {
        assertThatThrownBy(() -> Tabular.of(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
