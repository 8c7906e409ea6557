package dev.mlserver.gateway.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.repo.Problem;
import dev.mlserver.gateway.repo.Validator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "validate",
        mixinStandardHelpOptions = true,
        description = {"Check classifier configs and plugin jars as the gateway would load them: mlserver.yaml "
                + "schema, names and reserved routes, the pom's version, artifacts present, ONNX models open, "
                + "manifest fields; a built jar is opened and warmed for real.",
            "Prints every problem as FILE: KEY: MESSAGE. Exit 0 when there is no error, 1 otherwise."},
        footer = {"", "Examples:",
            "  ml_server validate                   # the repository here, and its built jars",
            "  ml_server validate classifiers/sentiment/mlserver.yaml",
            "  ml_server validate target/plugins --json   # every jar of a plugins directory"})
final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "PATH",
            description = "a repository, a classifier module or its mlserver.yaml, a plugin jar or a plugins directory (default: .)")
    Path path = Path.of(".");

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() {
        Terminal.quietLogs();
        Validator.Report report;
        try (Validator validator = Validator.create()) {
            report = validator.validate(path);
        }
        if (json) {
            ObjectNode o = JsonNodeFactory.instance.objectNode().put("ok", report.ok());
            report.checked().forEach(o.putArray("checked")::add);
            var problems = o.putArray("problems");
            for (Problem p : report.problems()) {
                problems.addObject().put("severity", p.severity().name().toLowerCase(Locale.ROOT))
                        .put("file", p.file()).put("key", p.key()).put("message", p.message());
            }
            Terminal.json(spec, o);
        } else {
            PrintWriter out = Terminal.out(spec);
            report.problems().forEach(out::println);
            long errors = report.problems().stream().filter(p -> p.severity() == Problem.Severity.ERROR).count();
            long warnings = report.problems().size() - errors;
            out.printf("%s: %d checked (%s), %d error%s, %d warning%s%n", report.ok() ? "ok" : "FAILED",
                    report.checked().size(), String.join(", ", report.checked()), errors, errors == 1 ? "" : "s",
                    warnings, warnings == 1 ? "" : "s");
            out.flush();
        }
        return report.ok() ? 0 : 1;
    }
}
