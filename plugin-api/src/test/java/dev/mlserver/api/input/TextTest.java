package dev.mlserver.api.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.api.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextTest {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    @Test
    void anObjectWithTextOrABareStringIsAText() {
        assertThat(Text.of(Text.example("hello"), 100)).isEqualTo("hello");
        assertThat(Text.of(JSON.textNode("hello"), 100)).isEqualTo("hello");
    }

    @Test
    void blankTooLongAndMisshapenInstancesAreRefused() {
        assertThatThrownBy(() -> Text.of(Text.example("\u00a0\u3000 "), 100)).isInstanceOf(InvalidInputException.class)
                .hasMessage("'text' is empty");
        assertThatThrownBy(() -> Text.of(Text.example("abcdef"), 5)).isInstanceOf(InvalidInputException.class)
                .hasMessage("'text' is longer than 5 characters");
        assertThatThrownBy(() -> Text.of(JSON.objectNode().put("text", "a").put("lang", "en"), 100))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("exactly one field");
        assertThatThrownBy(() -> Text.of(JSON.numberNode(3), 100)).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> Text.of(null, 100)).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void allReadsABatchInOrder() {
        List<JsonNode> batch = List.of(Text.example("one"), JSON.textNode("two"));
        assertThat(Text.all(batch, 100)).containsExactly("one", "two");
    }

    @Test
    void allNamesTheRefusedInstanceOfABatch() {
        List<JsonNode> batch = List.of(Text.example("one"), Text.example(""));
        assertThatThrownBy(() -> Text.all(batch, 100)).isInstanceOf(InvalidInputException.class)
                .hasMessage("instance 1: 'text' is empty");
    }

    @Test
    void allLeavesTheMessageOfASingleInstanceAlone() {
        assertThatThrownBy(() -> Text.all(List.of(Text.example("")), 100)).hasMessage("'text' is empty");
    }

    @Test
    void isBlankCountsUnicodeSpaces() {
        assertThat(Text.isBlank(" \t\n\u00a0\u3000")).isTrue();
        assertThat(Text.isBlank(" a ")).isFalse();
    }

    @Test
    void forNativeReplacesWhatOnnxRuntimeCannotTake() {
        assertThat(Text.forNative("plain text\n")).isEqualTo("plain text\n");
        assertThat(Text.forNative("a\u0000b")).isEqualTo("a b");
        assertThat(Text.forNative("smile \uD83D\uDE00!")).isEqualTo("smile  !");
        assertThat(Text.forNative("lone \uD800 surrogate")).isEqualTo("lone   surrogate");
    }

    @Test
    void theSchemaDescribesOneTextField() {
        JsonNode schema = Text.schema(42);
        assertThat(schema.get("required").get(0).asText()).isEqualTo("text");
        assertThat(schema.at("/properties/text/maxLength").asInt()).isEqualTo(42);
        assertThat(schema.get("additionalProperties").asBoolean()).isFalse();
    }
}
