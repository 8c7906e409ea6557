package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.http.Routes;
import dev.mlserver.gateway.plugin.PluginManifest;
import dev.mlserver.gateway.repo.ModelScaffold;
import dev.mlserver.gateway.repo.Scaffold;
import dev.mlserver.gateway.repo.TagFormat;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "init",
        mixinStandardHelpOptions = true,
        description = {"Scaffold a classifier repository that builds with `mvn package` and serves as it is.",
            "One --classifier gives the single-classifier layout; several give classifiers/<name>/ modules "
                + "beside a shared/ module. Each classifier gets a small real ONNX starter model.",
            "Outside a git repository the new one is `git init`ed, committed and each classifier tagged at 0.1.0."},
        footer = {"", "Examples:",
            "  ml_server init my-classifier        # one tabular classifier, my-classifier",
            "  ml_server init reviews --text --classifier sentiment --classifier spam",
            "  ml_server init family --classifier iris --tag-format path",
            "      # tags like classifiers/iris/v0.1.0",
            "  ml_server init iris --from-model model.onnx \\",
            "      --labels setosa,versicolor,virginica      # no Java: see package",
            "  ml_server init reviews --from-model onnx/model.onnx \\",
            "      --tokenizer onnx/tokenizer.json"})
final class InitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "the new repository's directory (absent or empty)")
    Path dir;

    @Option(names = "--classifier", paramLabel = "NAME",
            description = "a classifier to create (repeatable); default: one named after DIR")
    List<String> classifiers = new ArrayList<>();

    @ArgGroup(exclusive = true)
    KindChoice kind;

    static final class KindChoice {
        @Option(names = "--tabular", description = "starter model over four numeric features (the default)")
        boolean tabular;

        @Option(names = "--text", description = "starter model over text: TF-IDF sentiment, in the ONNX graph")
        boolean text;
    }

    @Option(names = "--group-id", paramLabel = "G", description = "Maven groupId and Java package root (default org.example.<dir>)")
    String groupId;

    @Option(names = "--tag-format", paramLabel = "hyphen|path",
            description = "tags.format of mlserver-repo.yaml: hyphen = <name>-v<version> (default), path = classifiers/<name>/v<version>")
    TagStyle tagFormat = TagStyle.HYPHEN;

    enum TagStyle {
        HYPHEN(TagFormat.HYPHEN), PATH(TagFormat.PATH);

        final TagFormat format;

        TagStyle(TagFormat format) {
            this.format = format;
        }
    }

    @Option(names = "--from-model", paramLabel = "MODEL.onnx",
            description = "write a model-only classifier directory from an ONNX model instead (no Java, no Maven): "
                    + "DIR/mlserver.yaml from the model's signature, and the model, its tokenizer.json and config.json copied")
    Path fromModel;

    @Option(names = "--tokenizer", paramLabel = "tokenizer.json",
            description = "with --from-model: the text model's HuggingFace tokenizer.json (default: the one beside the model)")
    Path tokenizer;

    @Option(names = "--name", paramLabel = "NAME", description = "with --from-model: the classifier's name (default: from DIR)")
    String name;

    @Option(names = "--labels", paramLabel = "LABEL", split = ",",
            description = "with --from-model: the class names, in the order of the model's probabilities")
    List<String> labels = new ArrayList<>();

    @Override
    public Integer call() {
        if (fromModel != null) {
            return FromModel.run(spec, new ModelScaffold.Request(dir, fromModel, Optional.ofNullable(tokenizer),
                    Optional.ofNullable(name), labels));
        }
        if (tokenizer != null || name != null || !labels.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--tokenizer, --name and --labels go with --from-model");
        }
        List<String> names = names();
        if (groupId != null && !groupId.matches("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*")) {
            throw new ParameterException(spec.commandLine(), "--group-id must be a dotted lowercase Java package such as com.acme.ml, got '" + groupId + "'");
        }
        Scaffold.Kind k = kind != null && kind.text ? Scaffold.Kind.TEXT : Scaffold.Kind.TABULAR;
        Scaffold.Result result;
        result = Scaffold.create(dir, names, k, groupId, tagFormat.format);
        PrintWriter out = Terminal.out(spec);
        out.printf("Created %s repository %s: %s (%s starter model%s)%n",
                result.multi() ? "a multi-classifier" : "a single-classifier", result.root(), String.join(", ", names),
                k == Scaffold.Kind.TEXT ? "text" : "tabular", names.size() > 1 ? "s" : "");
        if (result.commit() != null) {
            out.printf("git: new repository, commit %s, tags %s%n", result.commit(), String.join(", ", result.tags()));
        } else {
            out.println("git: inside an existing repository; nothing committed or tagged: commit the new files yourself");
        }
        String first = names.get(0);
        out.println();
        out.println("Next:");
        out.println("  " + cd(dir.toString()) + "mvn -q package       # plugin jars land in target/plugins");
        out.println("  ml_server validate");
        out.println("  ml_server serve --plugins-dir target/plugins");
        out.println("  " + cd(result.multi() ? "classifiers/" + first : "") + "ml_server serve mlserver.yaml --watch");
        out.flush();
        return 0;
    }

    /** {@code cd DIR && }, or nothing when the directory is the current one. */
    static String cd(String dir) {
        String d = dir.strip();
        return d.isEmpty() || d.equals(".") || d.equals("./") ? "" : "cd " + d + " && ";
    }

    private List<String> names() {
        Set<String> reserved = Routes.reservedNames(ConfigLoader.create(System.getenv()).load(Optional.empty()));
        List<String> names = new ArrayList<>(classifiers);
        if (names.isEmpty()) {
            String fromDir = Scaffold.repositoryName(dir);
            if (!PluginManifest.NAME.matcher(fromDir).matches() || reserved.contains(fromDir)) {
                throw new ParameterException(spec.commandLine(), "'" + fromDir + "' (from DIR) cannot be a classifier name: "
                        + "give one with --classifier NAME");
            }
            names.add(fromDir);
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String name : names) {
            if (!PluginManifest.NAME.matcher(name).matches()) {
                throw new ParameterException(spec.commandLine(), "invalid classifier name '" + name
                        + "': lowercase letters, digits and dashes, starting with a letter or digit, at most 64");
            }
            if (reserved.contains(name)) {
                throw new ParameterException(spec.commandLine(), "classifier name '" + name + "' is reserved for a gateway route");
            }
            if (name.equals("shared")) {
                throw new ParameterException(spec.commandLine(), "'shared' is the name of the shared module; pick another");
            }
            if (!seen.add(name)) {
                throw new ParameterException(spec.commandLine(), "classifier '" + name + "' is given twice");
            }
        }
        return List.copyOf(seen);
    }
}
