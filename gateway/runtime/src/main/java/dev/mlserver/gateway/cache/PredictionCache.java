package dev.mlserver.gateway.cache;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.mlserver.api.Prediction;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.Yaml;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers already given by one classifier version, per instance. Opt-in in the plugin's
 * {@code mlserver.yaml}: {@code cache: {max_entries: 10000, ttl: 10m}}.
 *
 * <p>The key is the version and the instance's canonical JSON (object keys sorted, numbers as
 * Jackson reads them), so {@code {"a":1,"b":2}} and {@code { "b": 2, "a": 1 }} share an entry
 * while {@code 1} and {@code 1.0} do not. Each version has its own cache, so a new version never
 * answers from an old entry. Memory is bounded: at most {@code max_entries} entries, and an
 * instance whose canonical form is longer than {@link #MAX_KEY_CHARS} is never cached.
 */
public final class PredictionCache {
    public static final long DEFAULT_MAX_ENTRIES = 10_000;
    public static final long MAX_MAX_ENTRIES = 1_000_000;
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);
    public static final int MAX_KEY_CHARS = 8192;

    private static final ObjectMapper CANONICAL = JsonMapper.builder().build();
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)?");

    private final String version;
    private final Cache<String, Prediction> entries;
    private final Settings settings;

    /** The {@code cache:} block of a plugin's mlserver.yaml. */
    public record Settings(long maxEntries, Duration ttl) {
        public Settings {
            if (maxEntries < 1 || maxEntries > MAX_MAX_ENTRIES) {
                throw new ConfigException("cache.max_entries must be between 1 and " + MAX_MAX_ENTRIES + ", got " + maxEntries);
            }
            if (ttl.isZero() || ttl.isNegative()) {
                throw new ConfigException("cache.ttl must be positive");
            }
        }

        /** Reads {@code node}; empty when it is absent or sets {@code max_entries: 0}. */
        public static Optional<Settings> parse(JsonNode node, String where) {
            if (node == null || node.isMissingNode() || node.isNull()) {
                return Optional.empty();
            }
            Yaml.Node cache = Yaml.Node.of(node, where);
            long maxEntries = cache.longValue("max_entries", DEFAULT_MAX_ENTRIES);
            Duration ttl = duration(cache.string("ttl", null), where + ".ttl");
            cache.rejectUnknown();
            if (maxEntries == 0) {
                return Optional.empty();
            }
            return Optional.of(new Settings(maxEntries, ttl == null ? DEFAULT_TTL : ttl));
        }
    }

    private PredictionCache(String version, Settings settings) {
        this.version = version;
        this.settings = settings;
        this.entries = Caffeine.newBuilder()
                .maximumSize(settings.maxEntries())
                .expireAfterWrite(settings.ttl())
                .build();
    }

    public static PredictionCache create(String version, Settings settings) {
        return new PredictionCache(version, settings);
    }

    public Settings settings() {
        return settings;
    }

    /** The key of {@code instance}, or empty when it is too large to cache. */
    public Optional<String> key(JsonNode instance) {
        StringWriter out = new StringWriter(64);
        out.append(version).append('\n');
        try (JsonGenerator g = CANONICAL.getFactory().createGenerator(out)) {
            if (!canonical(instance, g, out)) {
                return Optional.empty();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.of(out.toString());
    }

    public Optional<Prediction> get(String key) {
        return Optional.ofNullable(entries.getIfPresent(key));
    }

    public void put(String key, Prediction prediction) {
        entries.put(key, prediction);
    }

    /** Entries held now (approximate, as Caffeine counts). */
    public long size() {
        return entries.estimatedSize();
    }

    /** Writes {@code node} with sorted keys; false as soon as the text grows past the limit. */
    private static boolean canonical(JsonNode node, JsonGenerator g, StringWriter out) throws IOException {
        if (node.isObject()) {
            Map<String, JsonNode> sorted = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                sorted.put(e.getKey(), e.getValue());
            }
            g.writeStartObject();
            for (Map.Entry<String, JsonNode> e : sorted.entrySet()) {
                g.writeFieldName(e.getKey());
                if (!canonical(e.getValue(), g, out)) {
                    return false;
                }
            }
            g.writeEndObject();
        } else if (node.isArray()) {
            g.writeStartArray();
            for (JsonNode element : node) {
                if (!canonical(element, g, out)) {
                    return false;
                }
            }
            g.writeEndArray();
        } else {
            g.writeTree(node);
        }
        g.flush();
        return out.getBuffer().length() <= MAX_KEY_CHARS;
    }

    /** {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, or a whole number of seconds. */
    static Duration duration(String text, String where) {
        if (text == null) {
            return null;
        }
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) {
            throw new ConfigException(where + " must look like 500ms, 30s, 10m or 1h, got '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
