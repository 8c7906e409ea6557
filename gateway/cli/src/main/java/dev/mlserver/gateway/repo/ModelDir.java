package dev.mlserver.gateway.repo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.generic.ModelFiles;
import dev.mlserver.api.generic.ModelInspection;
import dev.mlserver.api.onnx.OnnxModel;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.Yaml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A model-only classifier directory: {@code mlserver.yaml} beside {@code model.onnx} (and, for
 * text, {@code tokenizer.json} and {@code config.json}), no pom and no Java. The gateway serves it
 * with its generic ONNX classifier once {@code ml_server package} has made it a plugin jar.
 */
public final class ModelDir {
    public static final String CARD = "mlserver.yaml";

    private ModelDir() {}

    /** Whether {@code dir} is a model-only classifier directory. */
    public static boolean is(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CARD)) && !Files.exists(dir.resolve("pom.xml"));
    }

    /** Reads {@code dir}'s mlserver.yaml. */
    public static JsonNode card(Path dir) {
        Path file = dir.resolve(CARD);
        try {
            if (Files.size(file) > Yaml.MAX_CODE_POINTS) {
                throw new RepoException(file + " is larger than " + Yaml.MAX_CODE_POINTS + " bytes");
            }
            JsonNode card = Yaml.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
            if (!card.isObject()) {
                throw new RepoException(file + " must be a mapping of keys to values");
            }
            return card;
        } catch (IOException e) {
            throw new RepoException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (ConfigException e) {
            throw new RepoException(e.getMessage(), e);
        }
    }

    /**
     * Checks a model-only directory as {@code package} and the gateway would: the card, then the
     * model opened with ONNX Runtime and the example run through it.
     *
     * @return the name of the classifier, or null when the card has none
     */
    static String check(Path dir, String shown, Set<String> reserved, Consumer<Problem> out) {
        String file = shown + "/" + CARD;
        JsonNode card;
        try {
            card = card(dir);
        } catch (RepoException e) {
            out.accept(Problem.error(file, "", e.getMessage()));
            return null;
        }
        String name = card.path("name").isTextual() ? card.get("name").asText() : null;
        if (name == null) {
            out.accept(Problem.error(file, "name", "is missing: it is the classifier's name, route and plugin id"));
        }
        ObjectNode withoutVersion = ((ObjectNode) card).deepCopy();
        JsonNode version = withoutVersion.remove("version");
        CardCheck.card(withoutVersion, name, "", reserved, file, out);
        if (version != null && (!version.isTextual() || SemVer.parse(version.asText()).isEmpty())) {
            out.accept(Problem.error(file, "version", "'" + version.asText() + "' is not a semantic version MAJOR.MINOR.PATCH"));
        }
        model(ModelFiles.of(dir), card, file, out);
        return name;
    }

    /**
     * Opens the model of a card with ONNX Runtime, reports every problem of the plan, then runs the
     * card's example (or one built from the signature) through it.
     */
    public static void model(ModelFiles files, JsonNode card, String file, Consumer<Problem> out) {
        try (ModelInspection model = ModelInspection.of(files, card, 1, file)) {
            model.problems().forEach(p -> out.accept(Problem.error(file, p.key(), p.message())));
            model.notes().forEach(p -> out.accept(Problem.warning(file, p.key(), p.message())));
            if (!model.ok()) {
                return;
            }
            JsonNode example = model.description().example();
            try {
                List<Prediction> predictions = model.predict(List.of(example));
                if (predictions.size() != 1 || !model.labels().contains(predictions.get(0).label())) {
                    out.accept(Problem.error(file, "example", "the model gave no usable prediction for the example "
                            + example + " (" + model.signature().describe() + ")"));
                }
            } catch (RuntimeException e) {
                out.accept(Problem.error(file, "example", "running the example " + clip(example.toString())
                        + " through the model failed: " + OnnxModel.oneLine(e.getMessage()) + " (" + model.signature().describe() + ")"));
            }
        } catch (RuntimeException e) {
            out.accept(Problem.error(file, "model", OnnxModel.oneLine(e.getMessage())));
        }
    }

    private static String clip(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }
}
