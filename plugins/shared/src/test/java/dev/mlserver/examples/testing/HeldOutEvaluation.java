package dev.mlserver.examples.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.Prediction;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * Re-evaluates a classifier module on its committed held-out split, through the module's own
 * classifier class and ONNX Runtime, and compares the figures with its model card.
 *
 * <p>Held-out files: {@code heldout.csv} (a header of feature names and {@code label}; each row
 * becomes an instance keyed by feature name) or {@code heldout.jsonl[.gz]} (one object per line,
 * its {@code label} field removed to form the instance).
 */
public final class HeldOutEvaluation {
    /** How far the re-evaluated figures may be from the card's. */
    public static final double TOLERANCE = 0.005;
    private static final int BATCH = 32;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One example of the held-out split: the instance as a client would send it, and its true label. */
    public record Example(JsonNode instance, String label) {}

    /** Accuracy and macro F1 over {@code rows} examples. */
    public record Figures(double accuracy, double macroF1, int rows) {}

    private HeldOutEvaluation() {}

    /** Asserts that the module's card states the figures its held-out split gives now. */
    public static Figures assertCardReproduced(PluginModule module) {
        Figures figures = evaluate(module);
        System.out.printf("%s held-out: accuracy %.4f, macro F1 %.4f, %d rows%n",
                module.name(), figures.accuracy(), figures.macroF1(), figures.rows());
        JsonNode metrics = module.card().path("model_metrics");
        assertThat(metrics.path("heldout_rows").asInt(-1)).as("heldout_rows on the card").isEqualTo(figures.rows());
        assertThat(figures.accuracy()).as("held-out accuracy of " + module.name())
                .isCloseTo(metrics.path("accuracy").asDouble(Double.NaN), within(TOLERANCE));
        assertThat(figures.macroF1()).as("held-out macro F1 of " + module.name())
                .isCloseTo(metrics.path("macro_f1").asDouble(Double.NaN), within(TOLERANCE));
        return figures;
    }

    /** Opens the module's classifier and evaluates it on the module's held-out split. */
    public static Figures evaluate(PluginModule module) {
        List<Example> examples = read(heldOutFile(module.dir()));
        Classifier classifier = module.open();
        try {
            return evaluate(classifier, examples);
        } finally {
            classifier.close();
        }
    }

    /** Evaluates an open classifier on the given examples. */
    public static Figures evaluate(Classifier classifier, List<Example> examples) {
        List<String> predicted = new ArrayList<>(examples.size());
        for (int from = 0; from < examples.size(); from += BATCH) {
            List<JsonNode> batch = examples.subList(from, Math.min(examples.size(), from + BATCH)).stream()
                    .map(Example::instance).toList();
            for (Prediction p : classifier.predict(batch)) {
                predicted.add(p.label());
            }
        }
        List<String> truth = examples.stream().map(Example::label).toList();
        return figures(truth, predicted);
    }

    /** Accuracy and macro F1 (the unweighted mean of per-label F1 over every label seen). */
    public static Figures figures(List<String> truth, List<String> predicted) {
        if (truth.size() != predicted.size() || truth.isEmpty()) {
            throw new IllegalArgumentException("need as many predictions as labels, and some");
        }
        Set<String> labels = new LinkedHashSet<>(truth);
        labels.addAll(predicted);
        int correct = 0;
        for (int i = 0; i < truth.size(); i++) {
            if (truth.get(i).equals(predicted.get(i))) {
                correct++;
            }
        }
        double f1Sum = 0;
        for (String label : labels) {
            int tp = 0;
            int fp = 0;
            int fn = 0;
            for (int i = 0; i < truth.size(); i++) {
                boolean isTrue = truth.get(i).equals(label);
                boolean isPredicted = predicted.get(i).equals(label);
                if (isTrue && isPredicted) {
                    tp++;
                } else if (isPredicted) {
                    fp++;
                } else if (isTrue) {
                    fn++;
                }
            }
            f1Sum += tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        }
        return new Figures((double) correct / truth.size(), f1Sum / labels.size(), truth.size());
    }

    /** The module's held-out file: heldout.csv, heldout.jsonl or heldout.jsonl.gz. */
    public static Path heldOutFile(Path moduleDir) {
        for (String name : List.of("heldout.csv", "heldout.jsonl", "heldout.jsonl.gz")) {
            Path file = moduleDir.resolve(name);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new IllegalStateException(moduleDir + " has no held-out split");
    }

    /** Reads a held-out file into examples. */
    public static List<Example> read(Path file) {
        String name = file.getFileName().toString();
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return name.endsWith(".csv") ? csv(reader) : jsonLines(reader);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static List<Example> csv(BufferedReader reader) throws IOException {
        String[] header = reader.readLine().split(",");
        int labelColumn = List.of(header).indexOf("label");
        List<Example> out = new ArrayList<>();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.isBlank()) {
                continue;
            }
            String[] cells = line.split(",");
            ObjectNode instance = JsonNodeFactory.instance.objectNode();
            for (int i = 0; i < header.length; i++) {
                if (i != labelColumn) {
                    instance.put(header[i], Double.parseDouble(cells[i]));
                }
            }
            out.add(new Example(instance, cells[labelColumn]));
        }
        return out;
    }

    private static List<Example> jsonLines(BufferedReader reader) throws IOException {
        List<Example> out = new ArrayList<>();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.isBlank()) {
                continue;
            }
            ObjectNode object = (ObjectNode) JSON.readTree(line);
            String label = object.remove("label").asText();
            out.add(new Example(object, label));
        }
        return out;
    }
}
