package dev.mlserver.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How much work one classifier may take on. Defaults come from the gateway config; a plugin's
 * {@code mlserver.yaml} may override any of them under {@code limits:}.
 */
public record Limits(int maxConcurrentPredictions, int maxQueue, long queueTimeoutMs, long timeoutMs, int maxBatch) {
    public static final int DEFAULT_MAX_CONCURRENT_PREDICTIONS = 2;
    public static final int DEFAULT_MAX_QUEUE = 64;
    public static final long DEFAULT_QUEUE_TIMEOUT_MS = 1000;
    public static final long DEFAULT_TIMEOUT_MS = 10_000;
    public static final int DEFAULT_MAX_BATCH = 64;

    public static final Limits DEFAULTS = new Limits(DEFAULT_MAX_CONCURRENT_PREDICTIONS, DEFAULT_MAX_QUEUE,
            DEFAULT_QUEUE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_BATCH);

    public Limits {
        if (maxConcurrentPredictions < 1) {
            throw new ConfigException("max_concurrent_predictions must be at least 1");
        }
        if (maxQueue < 0) {
            throw new ConfigException("max_queue must be 0 or more");
        }
        if (queueTimeoutMs < 1 || timeoutMs < 1) {
            throw new ConfigException("queue_timeout_ms and timeout_ms must be positive");
        }
        if (maxBatch < 1) {
            throw new ConfigException("max_batch must be at least 1");
        }
    }

    /** These limits with every key present in {@code overrides} (a {@code limits:} node) replaced. */
    public Limits overriddenBy(JsonNode overrides, String where) {
        if (overrides == null || overrides.isMissingNode() || overrides.isNull()) {
            return this;
        }
        Yaml.Node node = Yaml.Node.of(overrides, where);
        Limits limits = new Limits(
                node.integer("max_concurrent_predictions", maxConcurrentPredictions),
                node.integer("max_queue", maxQueue),
                node.longValue("queue_timeout_ms", queueTimeoutMs),
                node.longValue("timeout_ms", timeoutMs),
                node.integer("max_batch", maxBatch));
        node.rejectUnknown();
        return limits;
    }
}
