package dev.mlserver.examples.text;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java tokenizer against HuggingFace's own (through DJL), on the MiniLM tokenizer.json. */
class WordPieceTokenizerTest {
    static Path tokenizerJson;
    static WordPieceTokenizer tokenizer;
    static HuggingFaceTokenizer reference;

    @BeforeAll
    static void open() throws IOException {
        tokenizerJson = Path.of(System.getProperty("minilm.dir"), "all-minilm-l6-v2-q-tokenizer.json");
        tokenizer = WordPieceTokenizer.fromJson(Files.readAllBytes(tokenizerJson));
        reference = HuggingFaceTokenizer.newInstance(tokenizerJson,
                Map.of("padding", "false", "truncation", "true", "maxLength", "128"));
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    @Test
    void idsMatchTheReferenceOnTheFixedSentenceSet() throws IOException {
        List<String> sentences = Files.readAllLines(
                Path.of("src/test/resources/tokenizer-sentences.txt"), StandardCharsets.UTF_8);
        assertThat(sentences).hasSizeGreaterThan(30);
        for (String sentence : sentences) {
            assertThat(tokenizer.encode(sentence).ids()).as(sentence).containsExactly(reference.encode(sentence).getIds());
        }
    }

    @Test
    void idsMatchTheReferenceOnSeededRandomMixedScriptText() {
        String[] parts = {"the", "movie", "was", "GREAT", "bad", "not", "café", "Straße", "naïve", "ﬁne", "über",
                "日本", "中文字", "привет", "مرحبا", "हिन्दी", "한국어", "😀", "👍🏽", "!", "?", "...", ",", "'", "\"", "-",
                "(", ")", "$", "%", "3.5", "1990s", "don't", "can't", "x" .repeat(120), "\u00a0", "\t", "\n", "\u200b",
                "\u00ad", "\u0301", "e\u0301", "İ", "Σ", "ς", "ǅ", "Ⅻ", "ｆｕｌｌ", "snake_case", "a.b.c", "@", "#", "~"};
        Random random = new Random(20240607L);
        for (int n = 0; n < 500; n++) {
            StringBuilder text = new StringBuilder();
            int words = 1 + random.nextInt(40);
            for (int w = 0; w < words; w++) {
                text.append(parts[random.nextInt(parts.length)]);
                if (random.nextInt(3) > 0) {
                    text.append(' ');
                }
            }
            String s = text.toString();
            assertThat(tokenizer.encode(s).ids()).as(s).containsExactly(reference.encode(s).getIds());
        }
    }

    @Test
    void longTextIsTruncatedTo128IdsEndingWithSep() {
        String text = "word ".repeat(500);
        WordPieceTokenizer.Encoding encoding = tokenizer.encode(text);
        assertThat(encoding.ids()).hasSize(128).containsExactly(reference.encode(text).getIds());
        assertThat(encoding.ids()[0]).isEqualTo(tokenizer.id("[CLS]"));
        assertThat(encoding.ids()[127]).isEqualTo(tokenizer.id("[SEP]"));
        assertThat(encoding.truncated()).isTrue();
        assertThat(tokenizer.encode("word ".repeat(126)).truncated()).isFalse();
        assertThat(tokenizer.encode("word ".repeat(127)).truncated()).isTrue();
    }

    @Test
    void textWithNothingReadableIsJustClsAndSep() {
        assertThat(tokenizer.encode("\u0000\u0001\uD800 \u200b").ids())
                .containsExactly(tokenizer.id("[CLS]"), tokenizer.id("[SEP]"));
    }

    @Test
    void anUnknownWordIsOneUnk() {
        List<Long> ids = new ArrayList<>();
        for (long id : tokenizer.encode("😀").ids()) {
            ids.add(id);
        }
        assertThat(ids).containsExactly((long) tokenizer.id("[CLS]"), (long) tokenizer.id("[UNK]"), (long) tokenizer.id("[SEP]"));
    }
}
