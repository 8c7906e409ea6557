package dev.mlserver.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/** Safe YAML: no custom types, bounded aliases, depth and size. */
public final class Yaml {
    public static final int MAX_ALIASES = 50;
    public static final int MAX_DEPTH = 32;
    public static final int MAX_CODE_POINTS = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Yaml() {}

    /** Parses {@code text} into a JSON tree; an empty document is an empty object. */
    public static JsonNode parse(String text, String where) {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setNestingDepthLimit(MAX_DEPTH);
        options.setCodePointLimit(MAX_CODE_POINTS);
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        try {
            Object value = new org.yaml.snakeyaml.Yaml(new SafeConstructor(options)).load(text);
            if (value == null) {
                return JSON.createObjectNode();
            }
            return JSON.valueToTree(value);
        } catch (YAMLException | IllegalArgumentException e) {
            throw new ConfigException(where + ": not valid YAML: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        String oneLine = message.replaceAll("\\s+", " ").trim();
        return oneLine.length() > 300 ? oneLine.substring(0, 300) + "..." : oneLine;
    }

    /**
     * A mapping being read key by key. Every key read is remembered, so that {@link
     * #rejectUnknown} can name the keys nobody asked for: a misspelt key fails loudly.
     */
    public static final class Node {
        private final JsonNode node;
        private final String path;
        private final Set<String> read = new HashSet<>();

        private Node(JsonNode node, String path) {
            this.node = node;
            this.path = path;
        }

        public static Node of(JsonNode node, String path) {
            if (node != null && !node.isMissingNode() && !node.isNull() && !node.isObject()) {
                throw new ConfigException(path + " must be a mapping");
            }
            return new Node(node == null ? MissingNode.getInstance() : node, path);
        }

        public Node child(String key) {
            read.add(key);
            return of(node.path(key), qualified(key));
        }

        public String string(String key, String fallback) {
            JsonNode v = value(key);
            if (v.isMissingNode() || v.isNull()) {
                return fallback;
            }
            if (!v.isValueNode()) {
                throw new ConfigException(qualified(key) + " must be a string");
            }
            return v.asText();
        }

        public int integer(String key, int fallback) {
            long v = longValue(key, fallback);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new ConfigException(qualified(key) + " is out of range");
            }
            return (int) v;
        }

        public long longValue(String key, long fallback) {
            JsonNode v = value(key);
            if (v.isMissingNode() || v.isNull()) {
                return fallback;
            }
            if (!v.canConvertToLong() || !v.isIntegralNumber()) {
                throw new ConfigException(qualified(key) + " must be a whole number, got " + v);
            }
            return v.longValue();
        }

        public boolean bool(String key, boolean fallback) {
            JsonNode v = value(key);
            if (v.isMissingNode() || v.isNull()) {
                return fallback;
            }
            if (!v.isBoolean()) {
                throw new ConfigException(qualified(key) + " must be true or false, got " + v);
            }
            return v.booleanValue();
        }

        /** The value under {@code key} as it was written; a missing node when absent. */
        public JsonNode raw(String key) {
            return value(key);
        }

        /** The keys of this mapping, in file order, for sections keyed by name. */
        public List<String> keys() {
            List<String> keys = new ArrayList<>();
            node.fieldNames().forEachRemaining(keys::add);
            return keys;
        }

        /** A list of strings; a single string is a list of one. */
        public List<String> strings(String key) {
            JsonNode v = value(key);
            if (v.isMissingNode() || v.isNull()) {
                return List.of();
            }
            if (v.isTextual()) {
                return List.of(v.asText());
            }
            List<String> out = new ArrayList<>();
            if (v.isArray()) {
                for (JsonNode element : v) {
                    if (!element.isTextual()) {
                        throw new ConfigException(qualified(key) + " must be a list of strings");
                    }
                    out.add(element.asText());
                }
                return out;
            }
            throw new ConfigException(qualified(key) + " must be a list of strings");
        }

        /** Fails naming every key of this mapping that was never read. */
        public void rejectUnknown() {
            List<String> unknown = new ArrayList<>();
            for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!read.contains(name)) {
                    unknown.add(qualified(name));
                }
            }
            if (!unknown.isEmpty()) {
                throw new ConfigException("unknown key" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown));
            }
        }

        private JsonNode value(String key) {
            read.add(key);
            return node.path(key);
        }

        private String qualified(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }
    }
}
