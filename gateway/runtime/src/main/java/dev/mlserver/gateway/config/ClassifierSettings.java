package dev.mlserver.gateway.config;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One {@code classifiers.<name>} section of the gateway config: which of the classifier's loaded
 * versions take its traffic, and the operator's overrides of the limits and cache its plugins
 * ask for.
 *
 * @param limits the limit keys set here (a {@code limits:} mapping), applied over the plugin's
 * @param cache the {@code cache:} block set here, or a missing node to keep the plugin's
 */
public record ClassifierSettings(String name, Routing routing, ObjectNode limits, JsonNode cache) {
    /** Keys of a classifier section that override the plugin's {@code limits:}. */
    static final String[] LIMIT_KEYS = {"max_concurrent_predictions", "max_queue", "queue_timeout_ms", "timeout_ms",
        "max_batch"};

    public ClassifierSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(routing, "routing");
        limits = limits.deepCopy();
        cache = cache == null ? MissingNode.getInstance() : cache.deepCopy();
    }

    /** No section for {@code name}: highest version by default, no canary, no shadow, the plugin's limits. */
    public static ClassifierSettings none(String name) {
        return new ClassifierSettings(name, Routing.NONE, JsonNodeFactory.instance.objectNode(), MissingNode.getInstance());
    }

    public ClassifierSettings withRouting(Routing routing) {
        return new ClassifierSettings(name, routing, limits, cache);
    }

    /**
     * Which version answers the unpinned routes, which takes a share of them, and which sees a
     * copy of them.
     *
     * @param defaultVersion the default version; empty for the highest version loaded
     */
    public record Routing(String defaultVersion, Canary canary, Shadow shadow) {
        public static final Routing NONE = new Routing("", Canary.NONE, Shadow.NONE);

        public Routing {
            Objects.requireNonNull(defaultVersion, "default_version");
            Objects.requireNonNull(canary, "canary");
            Objects.requireNonNull(shadow, "shadow");
            if (canary.enabled() && shadow.enabled() && canary.version().equals(shadow.version())) {
                throw new ConfigException("canary and shadow name the same version " + canary.version()
                        + "; a version is either a canary (answers callers) or a shadow (never does)");
            }
        }

        public Routing withDefaultVersion(String version) {
            return new Routing(version, canary, shadow);
        }

        public Routing withCanary(Canary canary) {
            return new Routing(defaultVersion, canary, shadow);
        }

        public Routing withShadow(Shadow shadow) {
            return new Routing(defaultVersion, canary, shadow);
        }
    }

    /**
     * A share of the unpinned requests answered by another version.
     *
     * @param weight percent of requests, 0 to 100
     * @param stickyHeader a request header whose value keeps one caller on one version; empty for none
     */
    public record Canary(String version, int weight, String stickyHeader) {
        private static final Pattern HEADER = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{0,64}");
        public static final Canary NONE = new Canary("", 0, "");

        public Canary {
            Objects.requireNonNull(version, "canary.version");
            Objects.requireNonNull(stickyHeader, "canary.sticky_header");
            if (weight < 0 || weight > 100) {
                throw new ConfigException("canary.weight must be between 0 and 100, got " + weight);
            }
            if (weight > 0 && version.isBlank()) {
                throw new ConfigException("canary.version is required with a weight");
            }
            if (!HEADER.matcher(stickyHeader).matches()) {
                throw new ConfigException("canary.sticky_header must be a header name, got '" + clip(stickyHeader) + "'");
            }
        }

        public boolean enabled() {
            return weight > 0;
        }
    }

    /**
     * A copy of a sample of the unpinned requests, run on another version after the caller is
     * answered, to compare the two.
     *
     * @param sample percent of requests copied, 0 to 100
     * @param maxQueue copies waiting or running at once; more are dropped (and counted)
     */
    public record Shadow(String version, int sample, int maxQueue) {
        public static final int DEFAULT_MAX_QUEUE = 64;
        public static final Shadow NONE = new Shadow("", 0, DEFAULT_MAX_QUEUE);

        public Shadow {
            Objects.requireNonNull(version, "shadow.version");
            if (sample < 0 || sample > 100) {
                throw new ConfigException("shadow.sample must be between 0 and 100, got " + sample);
            }
            if (sample > 0 && version.isBlank()) {
                throw new ConfigException("shadow.version is required with a sample");
            }
            if (maxQueue < 1 || maxQueue > 100_000) {
                throw new ConfigException("shadow.max_queue must be between 1 and 100000, got " + maxQueue);
            }
        }

        public boolean enabled() {
            return sample > 0;
        }
    }

    /** Reads {@code classifiers.<name>}; a problem is one line naming where it is. */
    static ClassifierSettings parse(String name, Yaml.Node node) {
        try {
            return read(name, node);
        } catch (ConfigException e) {
            String where = "classifiers." + name;
            throw e.getMessage().startsWith(where) ? e : new ConfigException(where + ": " + e.getMessage(), e);
        }
    }

    private static ClassifierSettings read(String name, Yaml.Node node) {
        String defaultVersion = node.string("default_version", "");
        Canary canary = canary(node.child("canary"));
        Shadow shadow = shadow(node.child("shadow"));
        ObjectNode limits = JsonNodeFactory.instance.objectNode();
        for (String key : LIMIT_KEYS) {
            long value = node.longValue(key, Long.MIN_VALUE);
            if (value != Long.MIN_VALUE) {
                limits.put(key, value);
            }
        }
        // checked now, so that a bad value is refused with the config, not at the next load
        Limits.DEFAULTS.overriddenBy(limits, "classifiers." + name);
        JsonNode cache = node.raw("cache");
        if (!cache.isMissingNode() && !cache.isObject()) {
            throw new ConfigException("classifiers." + name + ".cache must be a mapping (max_entries, ttl)");
        }
        node.rejectUnknown();
        return new ClassifierSettings(name, new Routing(defaultVersion, canary, shadow), limits, cache);
    }

    /** A {@code canary:} mapping (a config section or an admin request's body). */
    public static Canary canary(Yaml.Node c) {
        Canary canary = new Canary(c.string("version", ""), c.integer("weight", 0), c.string("sticky_header", ""));
        c.rejectUnknown();
        return canary;
    }

    /** A {@code shadow:} mapping (a config section or an admin request's body). */
    public static Shadow shadow(Yaml.Node s) {
        Shadow shadow = new Shadow(s.string("version", ""), s.integer("sample", 0),
                s.integer("max_queue", Shadow.DEFAULT_MAX_QUEUE));
        s.rejectUnknown();
        return shadow;
    }
}
