package dev.mlserver.api.generic;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.Batching;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.Description;
import dev.mlserver.api.Prediction;
import dev.mlserver.api.onnx.OnnxModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model opened with ONNX Runtime and matched against its {@code mlserver.yaml}: its signature,
 * every problem that keeps it from being served (each naming the key to change), what had to be
 * guessed, and, when there is no problem, a classifier ready to predict.
 *
 * <p>The gateway's generic classifier, {@code ml_server init --from-model} and
 * {@code ml_server validate} all read a model through this one class, so they agree.
 */
public final class ModelInspection implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Signature signature;
    private final List<Problem> problems;
    private final List<Problem> notes;
    private final Optional<List<String>> graphLabels;
    private final Map<String, String> metadata;
    private final Plan plan;
    private final Runner runner;
    private final JsonNode example;

    private ModelInspection(Signature signature, List<Problem> problems, List<Problem> notes,
                            Optional<List<String>> graphLabels, Map<String, String> metadata, Plan plan, Runner runner,
                            JsonNode example) {
        this.signature = signature;
        this.problems = List.copyOf(problems);
        this.notes = List.copyOf(notes);
        this.graphLabels = graphLabels;
        this.metadata = Map.copyOf(metadata);
        this.plan = plan;
        this.runner = runner;
        this.example = example;
    }

    /**
     * Opens the model named in {@code card} (default {@code model.onnx}) from {@code files} and
     * plans how to serve it. Never throws for a bad model or card: look at {@link #problems()}.
     */
    public static ModelInspection of(ModelFiles files, JsonNode card, int intraOpThreads, String origin) {
        List<Problem> problems = new ArrayList<>();
        List<Problem> notes = new ArrayList<>();
        Settings settings = Settings.read(card, problems);
        Optional<byte[]> bytes = files.read(settings.model());
        if (bytes.isEmpty()) {
            problems.add(new Problem("model", "no model file '" + settings.model() + "' in " + origin));
            return new ModelInspection(new Signature(List.of(), List.of()), problems, notes, Optional.empty(), Map.of(),
                    null, null, card.path("example"));
        }
        OnnxModel model;
        try {
            model = OnnxModel.open(bytes.get(), intraOpThreads, origin + ":" + settings.model());
        } catch (ClassifierException e) {
            problems.add(new Problem("model", OnnxModel.oneLine(e.getMessage())));
            return new ModelInspection(new Signature(List.of(), List.of()), problems, notes, Optional.empty(), Map.of(),
                    null, null, card.path("example"));
        }
        Runner runner = null;
        try {
            Signature signature = Signature.of(model.session());
            Map<String, String> metadata = metadata(model);
            Optional<List<String>> graphLabels = GraphLabels.of(bytes.get());
            boolean text = signature.input("input_ids").isPresent();
            Optional<JsonNode> modelConfig = text ? json(files, settings.modelConfig(), problems, false) : Optional.empty();
            Optional<byte[]> tokenizerBytes = text ? files.read(settings.tokenizer()) : Optional.empty();
            int tokenizerMax = 0;
            if (text && tokenizerBytes.isEmpty()) {
                problems.add(new Problem("tokenizer", "the model takes token ids (" + signature.describe()
                        + ") but there is no tokenizer file '" + settings.tokenizer() + "': add the model's tokenizer.json"));
            } else if (text) {
                tokenizerMax = tokenizerJson(tokenizerBytes.get()).map(TextRunner::maxLength).orElse(0);
            }
            Optional<Plan> plan = Planner.plan(signature, settings, graphLabels, metadata, modelConfig, tokenizerMax,
                    problems, notes);
            if (plan.isPresent() && problems.isEmpty()) {
                if (plan.get() instanceof Plan.Text textPlan) {
                    runner = textRunner(model, textPlan, settings, tokenizerBytes.get(), problems);
                } else if (settings.batching().enabled()) {
                    problems.add(new Problem(Batching.KEY, "applies to text models; a tabular model runs the rows of "
                            + "a request in one call already"));
                } else {
                    runner = new TabularRunner(model, (Plan.Tabular) plan.get());
                }
            }
            if (runner == null) {
                model.close();
            }
            JsonNode example = card.has("example") ? card.get("example") : runner == null ? null : runner.example();
            return new ModelInspection(signature, problems, notes, graphLabels, metadata, runner == null ? null : plan.get(),
                    runner, example);
        } catch (RuntimeException e) {
            if (runner != null) {
                runner.close();
            } else {
                model.close();
            }
            throw e;
        }
    }

    /**
     * The runner of a text model, its batching checked; null, with the problem added, when the
     * tokenizer cannot be read or batched answers differ from one-at-a-time answers. Closes
     * nothing: the caller closes {@code model} when it gets null.
     */
    private static TextRunner textRunner(OnnxModel model, Plan.Text plan, Settings settings, byte[] tokenizerBytes,
                                         List<Problem> problems) {
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = TextRunner.tokenizer(tokenizerBytes, settings.tokenizer(), plan.maxLength());
        } catch (ClassifierException e) {
            problems.add(new Problem("tokenizer", OnnxModel.oneLine(e.getMessage())));
            return null;
        }
        if (!settings.batching().enabled()) {
            return TextRunner.create(model, plan, tokenizer);
        }
        long padId = tokenizerJson(tokenizerBytes).map(TextRunner::padId).orElse(0L);
        TextRunner runner = TextRunner.create(model, plan, tokenizer, settings.batching(), padId);
        try {
            runner.checkBatching();
            return runner;
        } catch (ClassifierException e) {
            problems.add(Problem.of(Batching.KEY, OnnxModel.oneLine(e.getMessage())));
            tokenizer.close();
            return null;
        }
    }

    /** The model's inputs and outputs; empty when it could not be opened. */
    public Signature signature() {
        return signature;
    }

    /** Every reason the model cannot be served as configured; empty when it can. */
    public List<Problem> problems() {
        return problems;
    }

    /** What was guessed and should be checked (say, generated feature names). */
    public List<Problem> notes() {
        return notes;
    }

    /** Whether the model can be served. */
    public boolean ok() {
        return runner != null;
    }

    /** {@code text} for a transformers classifier, {@code tabular} otherwise; empty when it cannot be served. */
    public Optional<String> kind() {
        return plan == null ? Optional.empty() : Optional.of(plan instanceof Plan.Text ? "text" : "tabular");
    }

    /** The labels it predicts, in probability order; empty when it cannot be served. */
    public List<String> labels() {
        return plan == null ? List.of() : plan.labels();
    }

    /** The class labels declared by the graph's classifier nodes, when it has any. */
    public Optional<List<String>> graphLabels() {
        return graphLabels;
    }

    /** The model's custom metadata. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tabular feature names in array order; empty for a text model or one that cannot be served. */
    public List<String> featureNames() {
        return plan instanceof Plan.Tabular tabular ? tabular.featureNames() : List.of();
    }

    /** The output probabilities are read from; empty when it cannot be served. */
    public Optional<String> output() {
        return plan == null ? Optional.empty()
                : Optional.of(plan instanceof Plan.Text t ? t.output() : ((Plan.Tabular) plan).output());
    }

    /** The most tokens a text model reads; empty for a tabular model. */
    public Optional<Integer> maxLength() {
        return plan instanceof Plan.Text t ? Optional.of(t.maxLength()) : Optional.empty();
    }

    /** The card's example, else one built from the signature. */
    public Optional<JsonNode> example() {
        return Optional.ofNullable(example).filter(e -> !e.isMissingNode());
    }

    /** Labels, schema and example, for the gateway. */
    public Description description() {
        Runner r = ready();
        return new Description(plan.labels(), r.schema(), example().orElseGet(r::example));
    }

    /** Classifies instances; see {@link dev.mlserver.api.Classifier#predict}. */
    public List<Prediction> predict(List<JsonNode> instances) {
        return ready().predict(instances);
    }

    private Runner ready() {
        if (runner == null) {
            throw new ClassifierException(problems.isEmpty() ? "the model is not open" : OnnxModel.oneLine(summary()));
        }
        return runner;
    }

    /** Every problem on one line. */
    public String summary() {
        return String.join("; ", problems.stream().map(Problem::toString).toList());
    }

    @Override
    public void close() {
        if (runner != null) {
            runner.close();
        }
    }

    private static Map<String, String> metadata(OnnxModel model) {
        try {
            return model.session().getMetadata().getCustomMetadata();
        } catch (OrtException e) {
            return Map.of();
        }
    }

    private static Optional<JsonNode> tokenizerJson(byte[] bytes) {
        try {
            return Optional.of(JSON.readTree(bytes));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<JsonNode> json(ModelFiles files, String name, List<Problem> problems, boolean required) {
        Optional<byte[]> bytes = files.read(name);
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            JsonNode node = JSON.readTree(bytes.get());
            if (node == null || !node.isObject()) {
                problems.add(new Problem("model_config", name + " is not a JSON object"));
                return Optional.empty();
            }
            return Optional.of(node);
        } catch (IOException e) {
            problems.add(new Problem("model_config", name + " is not JSON: " + OnnxModel.oneLine(e.getMessage())));
            return Optional.empty();
        }
    }
}
