package dev.mlserver.gateway.repo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.Limits;
import dev.mlserver.gateway.plugin.PluginManifest;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The schema of a classifier's {@code mlserver.yaml}: the keys the gateway reads are checked for
 * type and value; other keys belong to the plugin and are left alone.
 */
final class CardCheck {
    private CardCheck() {}

    /** Checks a classifier name as a route: the pattern and the gateway's reserved names. */
    static void name(String name, Set<String> reserved, String file, String key, Consumer<Problem> out) {
        if (!PluginManifest.NAME.matcher(name).matches()) {
            out.accept(Problem.error(file, key, "'" + name + "' is not a valid classifier name: "
                    + "lowercase letters, digits and dashes, starting with a letter or digit, at most 64 (^[a-z0-9][a-z0-9-]{0,63}$)"));
        } else if (reserved.contains(name)) {
            out.accept(Problem.error(file, key, "'" + name + "' is reserved for a gateway route " + reserved.stream().sorted().toList()));
        }
    }

    /**
     * Checks the card of classifier {@code expectedName}.
     *
     * @param versionHome where the version lives, for the message when the card has one too
     */
    static void card(JsonNode card, String expectedName, String versionHome, Set<String> reserved, String file,
                     Consumer<Problem> out) {
        if (!card.isObject()) {
            out.accept(Problem.error(file, "", "must be a mapping of keys to values"));
            return;
        }
        JsonNode name = card.get("name");
        if (name != null) {
            if (!name.isTextual()) {
                out.accept(Problem.error(file, "name", "must be a string"));
            } else {
                name(name.asText(), reserved, file, "name", out);
                if (expectedName != null && !name.asText().equals(expectedName)) {
                    out.accept(Problem.error(file, "name", "is '" + name.asText() + "' but the plugin id is '"
                            + expectedName + "'; they must be the same"));
                }
            }
        }
        if (card.has("version")) {
            out.accept(Problem.error(file, "version", "a classifier's version lives in exactly one place, "
                    + versionHome + "; remove it here"));
        }
        if (card.has("classifier") && card.get("classifier").isObject()) {
            out.accept(Problem.error(file, "classifier", "the keys of a classifier section (name, description, ...) "
                    + "go at the top level of mlserver.yaml"));
        }
        textual(card, "description", file, out);
        if (textual(card, "trained_at", file, out)) {
            try {
                OffsetDateTime.parse(card.get("trained_at").asText());
            } catch (DateTimeParseException e) {
                out.accept(Problem.error(file, "trained_at", "must be an ISO-8601 time with offset such as "
                        + "2026-01-15T10:30:00Z, got '" + card.get("trained_at").asText() + "'"));
            }
        }
        JsonNode metrics = card.get("model_metrics");
        if (metrics != null && !metrics.isNull()) {
            if (!metrics.isObject()) {
                out.accept(Problem.error(file, "model_metrics", "must be a mapping of metric names to numbers"));
            } else {
                for (Iterator<Map.Entry<String, JsonNode>> it = metrics.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> m = it.next();
                    if (!m.getValue().isNumber()) {
                        out.accept(Problem.error(file, "model_metrics." + m.getKey(), "must be a number, got " + m.getValue()));
                    }
                }
            }
        }
        labels(card, file, out);
        JsonNode limits = card.get("limits");
        if (limits != null && !limits.isNull()) {
            try {
                Limits.DEFAULTS.overriddenBy(limits, "limits");
            } catch (ConfigException e) {
                out.accept(Problem.error(file, "limits", e.getMessage()));
            }
        }
        JsonNode model = card.get("model");
        if (model != null && !model.isTextual()) {
            out.accept(Problem.error(file, "model", "must be the file name of an artifact, such as model.onnx"));
        }
    }

    /** The card's labels when they are a valid list, else null. */
    static List<String> labels(JsonNode card, String file, Consumer<Problem> out) {
        JsonNode labels = card.get("labels");
        if (labels == null || labels.isNull()) {
            return null;
        }
        if (!labels.isArray() || labels.isEmpty()) {
            out.accept(Problem.error(file, "labels", "must be a non-empty list of strings"));
            return null;
        }
        Set<String> seen = new HashSet<>();
        for (JsonNode label : labels) {
            if (!label.isTextual() || label.asText().isBlank()) {
                out.accept(Problem.error(file, "labels", "every label must be a non-empty string, got " + label));
                return null;
            }
            if (!seen.add(label.asText())) {
                out.accept(Problem.error(file, "labels", "label '" + label.asText() + "' is listed twice"));
                return null;
            }
        }
        List<String> out1 = new java.util.ArrayList<>();
        labels.forEach(l -> out1.add(l.asText()));
        return out1;
    }

    private static boolean textual(JsonNode card, String key, String file, Consumer<Problem> out) {
        JsonNode v = card.get(key);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isTextual()) {
            out.accept(Problem.error(file, key, "must be a string"));
            return false;
        }
        return true;
    }
}
