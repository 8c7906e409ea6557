package dev.mlserver.api.generic;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * Decides how to serve a model from its signature and its settings, or says every reason it
 * cannot: each problem names the key to change and the model's real inputs and outputs.
 */
final class Planner {
    static final Set<String> TABULAR_TYPES = Set.of("float", "double", "int64", "int32", "string");
    private static final Set<String> PROBABILITY_NAMES = Set.of("probabilities", "output_probability", "probability",
            "probas", "scores", "output", "logits");

    private final Signature signature;
    private final Settings settings;
    private final Optional<List<String>> graphLabels;
    private final Map<String, String> metadata;
    private final List<Problem> problems;
    private final List<Problem> notes;

    private Planner(Signature signature, Settings settings, Optional<List<String>> graphLabels, Map<String, String> metadata,
                    List<Problem> problems, List<Problem> notes) {
        this.signature = signature;
        this.settings = settings;
        this.graphLabels = graphLabels;
        this.metadata = metadata;
        this.problems = problems;
        this.notes = notes;
    }

    /** A plan, or empty with the reasons added to {@code problems}. */
    static Optional<Plan> plan(Signature signature, Settings settings, Optional<List<String>> graphLabels,
                               Map<String, String> metadata, Optional<JsonNode> modelConfig, int tokenizerMaxLength,
                               List<Problem> problems, List<Problem> notes) {
        Planner planner = new Planner(signature, settings, graphLabels, metadata, problems, notes);
        int before = problems.size();
        Plan plan = signature.input("input_ids").isPresent()
                ? planner.text(modelConfig, tokenizerMaxLength)
                : planner.tabular();
        return problems.size() == before && plan != null ? Optional.of(plan) : Optional.empty();
    }

    private Plan.Text text(Optional<JsonNode> modelConfig, int tokenizerMaxLength) {
        String mask = "";
        String typeIds = "";
        for (Port input : signature.inputs()) {
            switch (input.name()) {
                case "input_ids" -> { }
                case "attention_mask" -> mask = input.name();
                case "token_type_ids" -> typeIds = input.name();
                default -> problems.add(new Problem("model", "input " + input + " is not one a transformers"
                        + " classifier takes (input_ids, attention_mask, token_type_ids); " + signature.describe()));
            }
            if (input.kind() != Port.Kind.TENSOR || !(input.type().equals("int64") || input.type().equals("int32"))
                    || input.rank() != 2) {
                problems.add(new Problem("model", "input " + input + " must be an int64 [batch, tokens] tensor"));
            }
        }
        Port output = probabilityOutput().orElse(null);
        if (output == null) {
            return null;
        }
        if (output.kind() != Port.Kind.TENSOR) {
            problems.add(new Problem("output", "output " + output + " is not a [batch, classes] float tensor of logits"));
            return null;
        }
        int classes = (int) output.dimension(1);
        List<String> fromConfig = modelConfig.map(Planner::id2label).orElse(List.of());
        List<String> labels = labels(classes, fromConfig, "id2label in " + settings.modelConfig(), output);
        int maxLength = settings.maxLength() > 0 ? settings.maxLength()
                : tokenizerMaxLength > 0 ? tokenizerMaxLength
                : modelConfig.map(c -> c.path("max_position_embeddings").asInt(0)).filter(n -> n > 1).orElse(512);
        if (settings.maxLength() == 0 && tokenizerMaxLength == 0) {
            notes.add(new Problem("max_length", "the tokenizer sets no truncation length; texts are cut at "
                    + maxLength + " tokens (the model's max_position_embeddings, or 512)"));
        }
        return labels == null ? null : new Plan.Text("input_ids", mask, typeIds, output.name(), labels, maxLength);
    }

    private Plan.Tabular tabular() {
        List<Plan.Column> columns = new ArrayList<>();
        List<String> features = new ArrayList<>();
        boolean ok = true;
        for (Port input : signature.inputs()) {
            if (input.kind() != Port.Kind.TENSOR || !TABULAR_TYPES.contains(input.type())) {
                problems.add(new Problem("model", "input " + input + " has an unsupported element type: the generic "
                        + "classifier feeds float, double, int64, int32 and string tensors; export the model with "
                        + "float inputs (" + signature.describe() + ")"));
                ok = false;
            } else if (input.rank() < 1 || input.rank() > 2) {
                problems.add(new Problem("model", "input " + input + " has rank " + input.rank() + ": a tabular "
                        + "classifier takes [batch, features] or one [batch, 1] input per column (" + signature.describe() + ")"));
                ok = false;
            }
        }
        if (!ok || signature.inputs().isEmpty()) {
            if (signature.inputs().isEmpty()) {
                problems.add(new Problem("model", "the model has no inputs"));
            }
            return null;
        }
        boolean matrix = signature.inputs().size() == 1 && signature.inputs().get(0).rank() == 2
                && signature.inputs().get(0).dimension(1) != 1;
        if (matrix) {
            Port input = signature.inputs().get(0);
            List<String> names = matrixFeatures(input);
            if (names == null) {
                return null;
            }
            columns.add(new Plan.Column(input.name(), input.type(), names, 2));
            features.addAll(names);
        } else {
            for (Port input : signature.inputs()) {
                if (input.rank() == 2 && input.dimension(1) != 1) {
                    problems.add(new Problem("model", "input " + input + " is one of several inputs: each must be a "
                            + "single column [batch, 1] (" + signature.describe() + ")"));
                    return null;
                }
                columns.add(new Plan.Column(input.name(), input.type(), List.of(input.name()), input.rank()));
                features.add(input.name());
            }
            if (!settings.featureNames().isEmpty() && !settings.featureNames().equals(features)) {
                problems.add(new Problem("feature_names", "the model takes one input per column, named " + features
                        + "; remove feature_names or list exactly those"));
                return null;
            }
        }
        Port output = probabilityOutput().orElse(null);
        if (output == null) {
            return null;
        }
        if (output.kind() == Port.Kind.SEQUENCE_OF_MAPS) {
            List<String> keys = graphLabels.orElse(List.of());
            if (keys.isEmpty()) {
                problems.add(new Problem("labels", "output " + output + " is a ZipMap whose keys the graph does not "
                        + "declare; list them under labels: in mlserver.yaml"));
                return null;
            }
            List<String> labels = labels(keys.size(), List.of(), "", output);
            return labels == null ? null : new Plan.Tabular(columns, features, output.name(), Plan.Output.ZIPMAP, keys,
                    output.keyType().equals("int64"), labels);
        }
        List<String> labels = labels((int) output.dimension(1), List.of(), "", output);
        Plan.Output kind = output.name().toLowerCase(java.util.Locale.ROOT).contains("logit")
                ? Plan.Output.LOGITS : Plan.Output.PROBABILITIES;
        return labels == null ? null : new Plan.Tabular(columns, features, output.name(), kind, List.of(), false, labels);
    }

    private List<String> matrixFeatures(Port input) {
        long width = input.dimension(1);
        List<String> names = !settings.featureNames().isEmpty() ? settings.featureNames() : metadataList("feature_names");
        if (names.isEmpty()) {
            if (width < 1) {
                problems.add(new Problem("feature_names", "input " + input + " does not fix its number of features and "
                        + "the model stores no feature_names: list the feature names under feature_names:"));
                return null;
            }
            names = IntStream.range(0, (int) width).mapToObj(i -> "f" + i).toList();
            notes.add(new Problem("feature_names", "the model stores no feature names; its " + width + " columns are "
                    + "named " + names.get(0) + ".." + names.get(names.size() - 1)
                    + ": list your column names under feature_names: to send instances by name"));
            return names;
        }
        if (width > 0 && names.size() != width) {
            problems.add(new Problem("feature_names", names.size() + " feature names for input " + input
                    + ", which takes " + width + " columns"));
            return null;
        }
        return names;
    }

    /** The output that gives class scores: {@code output:}, else the likeliest by shape and name. */
    private Optional<Port> probabilityOutput() {
        if (!settings.output().isEmpty()) {
            Optional<Port> named = signature.output(settings.output());
            if (named.isEmpty()) {
                problems.add(new Problem("output", "the model has no output '" + settings.output() + "'; its outputs are "
                        + signature.outputs().stream().map(Port::toString).toList()));
            } else if (!isScores(named.get())) {
                problems.add(new Problem("output", "output " + named.get() + " gives no class probabilities: name a "
                        + "[batch, classes] float output or a ZipMap output (" + signature.describe() + ")"));
                return Optional.empty();
            }
            return named;
        }
        List<Port> candidates = signature.outputs().stream().filter(Planner::isScores).toList();
        Optional<Port> zipMap = candidates.stream().filter(p -> p.kind() == Port.Kind.SEQUENCE_OF_MAPS).findFirst();
        Optional<Port> named = candidates.stream()
                .filter(p -> PROBABILITY_NAMES.contains(p.name().toLowerCase(java.util.Locale.ROOT))).findFirst();
        Optional<Port> found = named.or(() -> zipMap).or(() -> candidates.size() == 1 ? Optional.of(candidates.get(0)) : Optional.empty());
        if (found.isEmpty()) {
            problems.add(new Problem("output", (candidates.isEmpty()
                    ? "no output gives class probabilities"
                    : "several outputs could be class probabilities: name one under output:")
                    + " (outputs: " + signature.outputs().stream().map(Port::toString).toList() + "); a classifier has a "
                    + "[batch, classes] float output (probabilities or logits) or a ZipMap seq(map) output"));
        }
        return found;
    }

    private static boolean isScores(Port port) {
        if (port.kind() == Port.Kind.SEQUENCE_OF_MAPS) {
            return port.type().equals("float") || port.type().equals("double");
        }
        return port.kind() == Port.Kind.TENSOR && (port.type().equals("float") || port.type().equals("double"))
                && port.rank() == 2 && port.dimension(1) != 1;
    }

    /**
     * The labels, by precedence: mlserver.yaml, then {@code preferred} (config.json), then the
     * model metadata, then the graph's class labels; checked against the class count when known.
     */
    private List<String> labels(int classes, List<String> preferred, String preferredSource, Port output) {
        List<String> labels;
        String source;
        if (!settings.labels().isEmpty()) {
            labels = settings.labels();
            source = "labels in mlserver.yaml";
        } else if (!preferred.isEmpty()) {
            labels = preferred;
            source = preferredSource;
        } else if (!metadataList("labels").isEmpty()) {
            labels = metadataList("labels");
            source = "labels in the model metadata";
        } else if (graphLabels.isPresent() && (classes <= 0 || graphLabels.get().size() == classes)) {
            labels = graphLabels.get();
            source = "class labels of the graph";
        } else {
            problems.add(new Problem("labels", "the model names no classes for output " + output
                    + ": list them in order under labels: in mlserver.yaml"));
            return null;
        }
        if (classes > 0 && labels.size() != classes) {
            problems.add(new Problem("labels", source + " has " + labels.size() + " labels " + labels + " but output "
                    + output + " gives " + classes + " classes" + graphLabels.map(g -> " " + g).orElse("")));
            return null;
        }
        if (labels.stream().distinct().count() != labels.size()) {
            problems.add(new Problem("labels", source + " repeats a label: " + labels));
            return null;
        }
        return labels;
    }

    private List<String> metadataList(String key) {
        String raw = metadata.get(key);
        if (raw == null || raw.isBlank()) {
            return List.of();
        }
        String trimmed = raw.trim();
        if (trimmed.startsWith("[")) {
            try {
                List<String> out = new ArrayList<>();
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(trimmed).forEach(n -> out.add(n.asText()));
                return out;
            } catch (java.io.IOException e) {
                problems.add(new Problem("model", "model metadata '" + key + "' is not a JSON list: " + clip(trimmed)));
                return List.of();
            }
        }
        return java.util.Arrays.stream(trimmed.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** config.json's id2label in id order; empty when absent or not 0..n-1. */
    static List<String> id2label(JsonNode config) {
        JsonNode map = config.path("id2label");
        if (!map.isObject() || map.isEmpty()) {
            return List.of();
        }
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            try {
                byId.put(Integer.parseInt(e.getKey().trim()), e.getValue().asText());
            } catch (NumberFormatException ex) {
                return List.of();
            }
        }
        if (byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
            return List.of();
        }
        return List.copyOf(byId.values());
    }

    private static String clip(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
