package dev.mlserver.examples.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.ClassifierException;
import java.io.IOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The BERT uncased WordPiece tokenizer of a HuggingFace {@code tokenizer.json}: BertNormalizer
 * (clean text, pad CJK ideographs, strip accents, lowercase), BertPreTokenizer (split on white
 * space and punctuation), WordPiece with {@code ##} continuations, then {@code [CLS] ... [SEP]}
 * truncated to the file's {@code truncation.max_length}. Gives the ids the HuggingFace tokenizer
 * gives (see the test against it), without padding. Immutable and thread-safe.
 */
public final class WordPieceTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_MAX_LENGTH = 512;

    private final Map<String, Integer> vocab;
    private final Map<String, Integer> addedTokens;
    private final String unknown;
    private final String prefix;
    private final int maxInputCharsPerWord;
    private final int maxLength;
    private final int cls;
    private final int sep;
    private final int unk;

    /**
     * One encoded text.
     *
     * @param ids token ids, {@code [CLS]} first and {@code [SEP]} last
     * @param truncated whether word pieces beyond {@code maxLength} were dropped
     */
    public record Encoding(long[] ids, boolean truncated) {}

    private WordPieceTokenizer(Map<String, Integer> vocab, Map<String, Integer> addedTokens, String unknown, String prefix,
                               int maxInputCharsPerWord, int maxLength) {
        this.vocab = Map.copyOf(vocab);
        this.addedTokens = Map.copyOf(addedTokens);
        this.unknown = unknown;
        this.prefix = prefix;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.maxLength = maxLength;
        this.cls = id("[CLS]");
        this.sep = id("[SEP]");
        this.unk = id(unknown);
        if (maxLength < 2) {
            throw new ClassifierException("tokenizer max length must be at least 2");
        }
    }

    /** Reads a HuggingFace {@code tokenizer.json} with a WordPiece model. */
    public static WordPieceTokenizer fromJson(byte[] tokenizerJson) {
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson);
        } catch (IOException e) {
            throw new ClassifierException("tokenizer.json is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!"WordPiece".equals(model.path("type").asText())) {
            throw new ClassifierException("tokenizer.json does not describe a WordPiece model");
        }
        JsonNode normalizer = root.path("normalizer");
        if (!"BertNormalizer".equals(normalizer.path("type").asText()) || !normalizer.path("lowercase").asBoolean(false)) {
            throw new ClassifierException("only the uncased BertNormalizer is supported");
        }
        Map<String, Integer> vocab = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        Map<String, Integer> added = new HashMap<>();
        for (JsonNode token : root.path("added_tokens")) {
            if (token.path("normalized").asBoolean(false) || token.path("single_word").asBoolean(false)
                    || token.path("lstrip").asBoolean(false) || token.path("rstrip").asBoolean(false)) {
                throw new ClassifierException("added token " + token.path("content").asText() + " has unsupported options");
            }
            added.put(token.path("content").asText(), token.path("id").asInt());
        }
        int maxLength = root.path("truncation").path("max_length").asInt(DEFAULT_MAX_LENGTH);
        return new WordPieceTokenizer(vocab, added, model.path("unk_token").asText("[UNK]"),
                model.path("continuing_subword_prefix").asText("##"),
                model.path("max_input_chars_per_word").asInt(100), maxLength);
    }

    /** The most ids one encoding holds, {@code [CLS]} and {@code [SEP]} included. */
    public int maxLength() {
        return maxLength;
    }

    /** Encodes one text: {@code [CLS]}, at most {@code maxLength - 2} word pieces, {@code [SEP]}. */
    public Encoding encode(String text) {
        List<Integer> pieces = new ArrayList<>();
        int room = maxLength - 2;
        boolean truncated = false;
        int start = 0;
        while (start < text.length() && !truncated) {
            int[] match = nextAddedToken(text, start);
            int end = match == null ? text.length() : match[0];
            for (String word : preTokenize(normalize(text.substring(start, end)))) {
                wordPiece(word, pieces);
                if (pieces.size() > room) {
                    truncated = true;
                    pieces.subList(room, pieces.size()).clear();
                    break;
                }
            }
            if (match == null || truncated) {
                break;
            }
            if (pieces.size() == room) {
                truncated = true;
                break;
            }
            pieces.add(match[2]);
            start = match[1];
        }
        long[] ids = new long[pieces.size() + 2];
        ids[0] = cls;
        for (int i = 0; i < pieces.size(); i++) {
            ids[i + 1] = pieces.get(i);
        }
        ids[ids.length - 1] = sep;
        return new Encoding(ids, truncated);
    }

    /**
     * The leftmost (then longest) added token, such as {@code [CLS]}, at or after {@code from}:
     * {start, end, id}, or null. As in HuggingFace, added tokens in the raw text are taken as
     * those tokens before any normalisation.
     */
    private int[] nextAddedToken(String text, int from) {
        int[] best = null;
        for (Map.Entry<String, Integer> token : addedTokens.entrySet()) {
            int at = text.indexOf(token.getKey(), from);
            if (at >= 0 && (best == null || at < best[0] || (at == best[0] && at + token.getKey().length() > best[1]))) {
                best = new int[] {at, at + token.getKey().length(), token.getValue()};
            }
        }
        return best;
    }

    /** The id of a token of the vocabulary. */
    public int id(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new ClassifierException("the tokenizer vocabulary has no " + token);
        }
        return id;
    }

    /** BertNormalizer: drop controls, map white space to ' ', pad CJK, strip accents, lowercase. */
    static String normalize(String text) {
        StringBuilder cleaned = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            if (isWhitespace(c)) {
                cleaned.append(' ');
            } else if (isChinese(c)) {
                cleaned.append(' ').appendCodePoint(c).append(' ');
            } else {
                cleaned.appendCodePoint(c);
            }
        });
        String decomposed = Normalizer.normalize(cleaned, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints().forEach(c -> {
            if (Character.getType(c) != Character.NON_SPACING_MARK) {
                appendLower(out, c);
            }
        });
        return out.toString();
    }

    /** Lowercases one code point as Rust's {@code char::to_lowercase} does (full mapping, no context). */
    private static void appendLower(StringBuilder out, int c) {
        if (c == 0x130) { // the one unconditional multi-character lowercase mapping
            out.append("i\u0307");
        } else {
            out.appendCodePoint(Character.toLowerCase(c));
        }
    }

    /** BertPreTokenizer: words split on white space, each punctuation character a word of its own. */
    static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (isWhitespace(c)) {
                flush(word, words);
            } else if (isPunctuation(c)) {
                flush(word, words);
                words.add(new String(Character.toChars(c)));
            } else {
                word.appendCodePoint(c);
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (word.length() > 0) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** Greedy longest-match-first WordPiece; a word with no full split is one {@code [UNK]}. */
    private void wordPiece(String word, List<Integer> out) {
        if (word.codePointCount(0, word.length()) > maxInputCharsPerWord) {
            out.add(unk);
            return;
        }
        List<Integer> pieces = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer found = null;
            while (start < end) {
                String piece = word.substring(start, end);
                if (start > 0) {
                    piece = prefix + piece;
                }
                found = vocab.get(piece);
                if (found != null) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (found == null) {
                out.add(unk);
                return;
            }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    /** HuggingFace's is_whitespace: tab, newline, carriage return, and Unicode White_Space. */
    static boolean isWhitespace(int c) {
        return switch (c) {
            case '\t', '\n', '\r', ' ', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> c >= 0x2000 && c <= 0x200A;
        };
    }

    /** HuggingFace's is_control: the "other" categories (Cc, Cf, Cs, Co, Cn) except tab, newline, CR. */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.PRIVATE_USE || type == Character.UNASSIGNED;
    }

    /** ASCII punctuation and the Unicode punctuation categories (Pc, Pd, Ps, Pe, Pi, Pf, Po). */
    static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
            return true;
        }
        int type = Character.getType(c);
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }

    /** The CJK ideograph blocks BERT pads with spaces. */
    static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
