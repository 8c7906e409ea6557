package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ModelScaffold;
import dev.mlserver.gateway.repo.Problem;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;

/** {@code init DIR --from-model MODEL.onnx}: prints what was written and what is left to fill. */
final class FromModel {
    private FromModel() {}

    static int run(CommandSpec spec, ModelScaffold.Request request) {
        Terminal.quietLogs();
        ModelScaffold result = ModelScaffold.write(request);
        PrintWriter out = Terminal.out(spec);
        out.println("Wrote " + result.dir() + ": " + String.join(", ", result.files()));
        out.println(result.summary());
        if (result.toFill().isEmpty()) {
            out.println("Nothing left to fill: every key was read from the model.");
        } else {
            out.println("To fill or check in " + result.dir().resolve("mlserver.yaml") + ":");
            for (Problem p : result.toFill()) {
                out.println("  " + (p.severity() == Problem.Severity.ERROR ? "error: " : "") + p.key() + ": " + p.message());
            }
        }
        out.println();
        out.println("Next:");
        out.println("  ml_server validate " + result.dir());
        out.println("  ml_server package " + result.dir() + "            # the plugin jar, in target/");
        out.println("  ml_server serve --plugins-dir " + result.dir().resolve("target"));
        out.flush();
        return result.toFill().stream().anyMatch(p -> p.severity() == Problem.Severity.ERROR) ? 1 : 0;
    }
}
