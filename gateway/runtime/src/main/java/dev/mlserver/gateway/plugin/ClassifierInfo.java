package dev.mlserver.gateway.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.config.Limits;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything known about one loaded classifier version: what every response is stamped with,
 * and what {@code GET /<classifier>} shows.
 */
public record ClassifierInfo(
        String name, String version, String repository, String gitTag, String gitCommit,
        String trainedAt, String apiVersion, JsonNode modelMetrics, String description,
        List<String> labels, JsonNode inputSchema, JsonNode example, Limits limits,
        String jarSha256, Path jar, String buildTime, JsonNode card) {

    public ClassifierInfo {
        labels = List.copyOf(labels);
    }

    /** The metadata block of every response about this classifier. */
    public ObjectNode metadata() {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("repository", repository);
        m.put("classifier", name);
        m.put("version", version);
        m.put("git_tag", gitTag);
        m.put("git_commit", gitCommit);
        m.put("trained_at", trainedAt);
        m.put("api_version", apiVersion);
        m.set("model_metrics", modelMetrics.deepCopy());
        return m;
    }
}
