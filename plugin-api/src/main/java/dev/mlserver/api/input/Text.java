package dev.mlserver.api.input;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.InvalidInputException;
import java.util.List;

/** Text instances: {@code {"text": "..."}} or a bare string. */
public final class Text {
    /** The longest text accepted, in characters; longer text is refused, not silently cut. */
    public static final int DEFAULT_MAX_CHARS = 100_000;

    private Text() {}

    /** The text of one instance; never blank. */
    public static String of(JsonNode instance, int maxChars) {
        JsonNode text = instance != null && instance.isObject() ? instance.get("text") : instance;
        if (instance != null && instance.isObject() && instance.size() != 1) {
            throw new InvalidInputException("a text instance has exactly one field, 'text'");
        }
        if (text == null || !text.isTextual()) {
            throw new InvalidInputException("a text instance is {\"text\": \"...\"} or a string");
        }
        String value = text.textValue();
        if (isBlank(value)) {
            throw new InvalidInputException("'text' is empty");
        }
        if (value.length() > maxChars) {
            throw new InvalidInputException("'text' is longer than " + maxChars + " characters");
        }
        return value;
    }

    /**
     * The text of every instance of a batch, in order, each checked as {@link #of} does; a
     * refusal in a batch of several names the instance's position ({@code instance 2: ...}).
     */
    public static String[] all(List<JsonNode> instances, int maxChars) {
        String[] texts = new String[instances.size()];
        for (int i = 0; i < texts.length; i++) {
            try {
                texts[i] = of(instances.get(i), maxChars);
            } catch (InvalidInputException e) {
                throw texts.length == 1 ? e : e.at(i);
            }
        }
        return texts;
    }

    /** Whether {@code text} holds only white space, counting Unicode spaces such as U+00A0 and U+3000. */
    public static boolean isBlank(String text) {
        return text.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c));
    }

    /**
     * The text with every character that ONNX Runtime's native string handling cannot take
     * (NUL and other control characters, lone surrogates, code points beyond U+FFFF) replaced by
     * a space.
     */
    public static String forNative(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean bad = Character.isSurrogate(c) || (Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r');
            if (bad) {
                if (out == null) {
                    out = new StringBuilder(text.length()).append(text, 0, i);
                }
                out.append(' ');
                // a valid pair is one code point beyond the BMP: one space for both halves
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                }
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** A JSON Schema of one text instance. */
    public static JsonNode schema(int maxChars) {
        ObjectNode object = JsonNodeFactory.instance.objectNode().put("type", "object").put("additionalProperties", false);
        object.putObject("properties").putObject("text").put("type", "string").put("minLength", 1).put("maxLength", maxChars);
        object.putArray("required").add("text");
        return object;
    }

    /** {@code {"text": value}}. */
    public static JsonNode example(String value) {
        return JsonNodeFactory.instance.objectNode().put("text", value);
    }
}
