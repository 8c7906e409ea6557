package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Awkward text over HTTP, against the reactor-built text classifiers of the example family. The
 * bodies are sent as raw bytes, so NULs, lone surrogates and invalid UTF-8 reach the server as
 * written. Each answer is a 200 with a prediction or a 400 with a clear message, never a 500.
 */
class TextInputTest {
    static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(TestGateway.examplePlugins());
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    /** {"payload": {"text": "<json-escaped text>"}} with the text's bytes exactly as given. */
    static byte[] body(byte[] jsonStringContent) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("{\"payload\": {\"text\": \"".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(jsonStringContent);
        out.writeBytes("\"}}".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static HttpResponse<String> predict(String classifier, byte[] text) {
        return gateway.post("/" + classifier + "/predict", body(text), "application/json");
    }

    static JsonNode assertPrediction(String classifier, HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode body = TestGateway.json(response);
        assertThat(body.get("predictions")).hasSize(1);
        JsonNode labels = TestGateway.json(gateway.get("/" + classifier)).get("labels");
        assertThat(labels).extracting(JsonNode::asText).contains(body.get("predictions").get(0).asText());
        return body;
    }

    static void assertRefused(HttpResponse<String> response, String messagePart) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        JsonNode error = TestGateway.json(response).get("error");
        assertThat(error.get("code").asText()).isIn("invalid_input", "invalid_json");
        assertThat(error.get("message").asText()).contains(messagePart);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void emptyTextIs400(String classifier) {
        assertRefused(predict(classifier, utf8("")), "'text' is empty");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void whitespaceOnlyTextIs400(String classifier) {
        assertRefused(predict(classifier, utf8(" \\t\\n\\r \u00a0\u3000 ")), "'text' is empty");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void veryLongTextIs200(String classifier) {
        assertPrediction(classifier, predict(classifier, utf8("the battery died after a week and support never called back. ".repeat(1500))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void textBeyondOneHundredThousandCharactersIs400(String classifier) {
        assertRefused(predict(classifier, utf8("a".repeat(100_001))), "longer than 100000 characters");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void escapedNulIs200(String classifier) {
        assertPrediction(classifier, predict(classifier, utf8("great\\u0000 phone\\u0000")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void emojiAre200(String classifier) {
        assertPrediction(classifier, predict(classifier, utf8("love it \uD83D\uDE00\uD83D\uDC4D\uD83C\uDFFD so much")));
        assertPrediction(classifier, predict(classifier, utf8("\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void escapedLoneSurrogatesAre200(String classifier) {
        assertPrediction(classifier, predict(classifier, utf8("broken \\ud800 text \\udc00 end \\udbff")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void loneSurrogateEncodedAsRawBytesIsNever500(String classifier) {
        // ED A0 80: U+D800 written the way CESU-8 would, which UTF-8 forbids
        byte[] text = {'o', 'k', ' ', (byte) 0xED, (byte) 0xA0, (byte) 0x80, ' ', 'o', 'k'};
        HttpResponse<String> response = predict(classifier, text);
        if (response.statusCode() == 200) {
            assertPrediction(classifier, response);
        } else {
            assertRefused(response, "");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void invalidUtf8Is400(String classifier) {
        assertRefused(predict(classifier, new byte[] {'b', 'a', 'd', ' ', (byte) 0xFF, (byte) 0xC3, 0x28}), "not valid JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void nonLatinScriptsAre200(String classifier) {
        for (String text : new String[] {"Это был отличный день", "这个产品非常好用", "هذا المنتج رائع جدا",
                "यह बहुत अच्छा है", "こんにちは、世界", "שלום עולם"}) {
            assertPrediction(classifier, predict(classifier, utf8(text)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "topic", "spam"})
    void aTextThatIsNotAStringIs400(String classifier) {
        assertRefused(gateway.post("/" + classifier + "/predict", "{\"payload\": {\"text\": 42}}"), "a text instance");
    }

    @Test
    void sentimentTellsPositiveFromNegative() {
        JsonNode positive = assertPrediction("sentiment",
                predict("sentiment", utf8("I love this phone, the battery lasts for days")));
        JsonNode negative = assertPrediction("sentiment",
                predict("sentiment", utf8("The worst meal I have ever had, cold and tasteless")));
        assertThat(positive.get("predictions").get(0).asText()).isEqualTo("positive");
        assertThat(negative.get("predictions").get(0).asText()).isEqualTo("negative");
    }

    @Test
    void spamTellsSpamFromAnOrdinaryMail() {
        JsonNode spam = assertPrediction("spam", predict("spam", utf8("Subject: You WON a FREE vacation!!!\\n\\n"
                + "Click here now to claim your cash prize. Limited offer, act now. Reply REMOVE to unsubscribe.")));
        JsonNode ham = assertPrediction("spam", predict("spam", utf8("Subject: Re: notes from the meeting\\n\\n"
                + "Thanks for sending these. I fixed the typo in section two and pushed the change to the repository.")));
        assertThat(spam.get("predictions").get(0).asText()).isEqualTo("spam");
        assertThat(ham.get("predictions").get(0).asText()).isEqualTo("ham");
    }
}
