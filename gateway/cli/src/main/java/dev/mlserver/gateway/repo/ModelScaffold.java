package dev.mlserver.gateway.repo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.generic.ModelFiles;
import dev.mlserver.api.generic.ModelInspection;
import dev.mlserver.api.generic.Port;
import dev.mlserver.gateway.plugin.PluginManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * {@code ml_server init DIR --from-model MODEL.onnx}: a model-only classifier directory written
 * from what ONNX Runtime reads in the model (inputs with types and shapes, outputs, labels,
 * feature names, an example the model accepts), with the artifacts copied beside it. What cannot
 * be inferred is named, with the key to fill.
 *
 * @param dir the directory written
 * @param files the files written in it
 * @param toFill what the user should fill or check, each with its key
 * @param summary the kind of classifier and the model's signature, in one line
 */
public record ModelScaffold(Path dir, List<String> files, List<Problem> toFill, String summary) {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String INITIAL_VERSION = "0.1.0";

    public ModelScaffold {
        files = List.copyOf(files);
        toFill = List.copyOf(toFill);
    }

    /** What {@code init --from-model} was asked. */
    public record Request(Path dir, Path model, Optional<Path> tokenizer, Optional<String> name, List<String> labels) {
        public Request {
            labels = List.copyOf(labels);
        }
    }

    public static ModelScaffold write(Request request) {
        Path dir = request.dir();
        if (!Files.isRegularFile(request.model())) {
            throw new RepoException("no model file " + request.model());
        }
        if (Files.exists(dir.resolve(ModelDir.CARD))) {
            throw new RepoException(dir.resolve(ModelDir.CARD) + " exists already: init writes a new classifier directory");
        }
        String name = request.name().orElse(defaultName(dir));
        if (!PluginManifest.NAME.matcher(name).matches()) {
            throw new RepoException("'" + name + "' is not a valid classifier name: lowercase letters, digits and dashes, "
                    + "starting with a letter or digit, at most 64; pass --name");
        }
        List<String> files = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            copy(request.model(), dir.resolve("model.onnx"), files);
            request.tokenizer().ifPresent(t -> copy(t, dir.resolve("tokenizer.json"), files));
            Path config = request.model().toAbsolutePath().resolveSibling("config.json");
            if (Files.isRegularFile(config)) {
                copy(config, dir.resolve("config.json"), files);
            }
            if (request.tokenizer().isEmpty()) {
                Path tokenizer = request.model().toAbsolutePath().resolveSibling("tokenizer.json");
                if (Files.isRegularFile(tokenizer)) {
                    copy(tokenizer, dir.resolve("tokenizer.json"), files);
                }
            }
        } catch (IOException e) {
            throw new RepoException("cannot write " + dir + ": " + e.getMessage(), e);
        }
        ObjectNode card = JsonNodeFactory.instance.objectNode();
        if (!request.labels().isEmpty()) {
            request.labels().forEach(card.putArray("labels")::add);
        }
        try (ModelInspection model = ModelInspection.of(ModelFiles.of(dir), card, 1, dir.toString())) {
            List<Problem> toFill = new ArrayList<>();
            String file = dir.resolve(ModelDir.CARD).toString();
            model.problems().forEach(p -> toFill.add(Problem.error(file, p.key(), p.message())));
            model.notes().forEach(p -> toFill.add(Problem.warning(file, p.key(), p.message())));
            if (model.ok() && request.labels().isEmpty() && model.labels().stream().allMatch(l -> l.matches("-?\\d+"))) {
                toFill.add(Problem.warning(file, "labels", "the model's classes are the numbers " + model.labels()
                        + ": write their names in this order under labels: (or pass --labels)"));
            }
            toFill.add(Problem.warning(file, "description", "say what the classifier tells, from what input: "
                    + "GET /" + name + " and the jar's manifest show it"));
            String yaml = yaml(name, model, request);
            Files.writeString(dir.resolve(ModelDir.CARD), yaml, StandardCharsets.UTF_8);
            files.add(0, ModelDir.CARD);
            String summary = model.kind().orElse("unservable") + " classifier " + name + ": " + model.signature().describe();
            return new ModelScaffold(dir, files, toFill, summary);
        } catch (IOException e) {
            throw new RepoException("cannot write " + dir.resolve(ModelDir.CARD) + ": " + e.getMessage(), e);
        }
    }

    private static String yaml(String name, ModelInspection model, Request request) throws IOException {
        StringBuilder y = new StringBuilder();
        y.append("# A model-only classifier, served by the gateway's generic ONNX classifier with no Java.\n");
        y.append("# Written by ml_server init --from-model ").append(request.model().getFileName()).append(".\n");
        y.append("# Check it: ml_server validate ").append(request.dir()).append("\n");
        y.append("# Package it: ml_server package ").append(request.dir()).append("\n");
        y.append("name: ").append(name).append('\n');
        y.append("# The classifier's version: this line, and nowhere else (without it, its newest git tag).\n");
        y.append("version: ").append(INITIAL_VERSION).append('\n');
        y.append("description: ").append(quote("TODO: what it classifies, from what")).append('\n');
        y.append("model: model.onnx\n");
        if (model.kind().filter("text"::equals).isPresent()) {
            y.append("tokenizer: tokenizer.json\n");
            y.append("# The most tokens read from a text (longer text is cut and the answer says \"truncated\": true).\n");
            y.append("max_length: ").append(model.maxLength().orElse(512)).append('\n');
        }
        y.append("# The model as ONNX Runtime reads it (for reference: the gateway reads the model itself).\n");
        y.append("signature:\n  inputs:\n");
        for (Port p : model.signature().inputs()) {
            y.append("    - {name: ").append(quote(p.name())).append(", type: ").append(quote(p.describe())).append("}\n");
        }
        y.append("  outputs:\n");
        for (Port p : model.signature().outputs()) {
            y.append("    - {name: ").append(quote(p.name())).append(", type: ").append(quote(p.describe())).append("}\n");
        }
        model.output().ifPresent(o -> y.append("# The output class probabilities (or logits) are read from.\noutput: ")
                .append(quote(o)).append('\n'));
        List<String> labels = !request.labels().isEmpty() ? request.labels() : model.labels();
        if (!labels.isEmpty()) {
            y.append("# The classes in the order of the model's probabilities; this list wins over the model's own.\n");
            y.append("labels: ").append(list(labels)).append('\n');
        } else {
            y.append("# labels: [...]   # TODO: the model names no classes; list them in probability order\n");
        }
        if (!model.featureNames().isEmpty()) {
            y.append("# Instances are objects keyed by these names, or arrays in this order.\n");
            y.append("feature_names: ").append(list(model.featureNames())).append('\n');
        }
        model.example().ifPresent(e -> y.append("# An instance the model accepts; POST {\"payload\": <example>} to /")
                .append(name).append("/predict.\nexample: ").append(exampleJson(e)).append('\n'));
        return y.toString();
    }

    private static String exampleJson(JsonNode example) {
        return example.toString();
    }

    private static String list(List<String> values) {
        return values.stream().map(ModelScaffold::quote).collect(Collectors.joining(", ", "[", "]"));
    }

    /** A YAML double-quoted scalar (JSON string syntax is valid YAML). */
    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String defaultName(Path dir) {
        String base = dir.toAbsolutePath().normalize().getFileName().toString().toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+", "");
        return base.isEmpty() ? "classifier" : base.length() > 64 ? base.substring(0, 64) : base;
    }

    private static void copy(Path from, Path to, List<String> files) {
        try {
            if (!from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) {
                Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
            files.add(to.getFileName().toString());
        } catch (IOException e) {
            throw new RepoException("cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }
}
