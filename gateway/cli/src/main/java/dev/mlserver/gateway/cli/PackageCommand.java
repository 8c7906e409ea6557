package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.http.Routes;
import dev.mlserver.gateway.repo.ToolException;
import dev.mlserver.gateway.repo.ModelDir;
import dev.mlserver.gateway.repo.ModelPackage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "package",
        mixinStandardHelpOptions = true,
        description = {"Package a model-only classifier directory (mlserver.yaml + model.onnx [+ tokenizer.json, config.json]) "
                + "as a plugin jar, with no Maven and no Java: the gateway serves it with its generic ONNX classifier.",
            "The directory is validated first. The manifest carries Plugin-Id, Plugin-Version (mlserver.yaml version:, else "
                + "the classifier's newest git tag), Plugin-Provider, Plugin-Requires, Git-Commit, Git-Tag, Git-Repository "
                + "and Build-Time, as a Maven-built plugin's."},
        footer = {"", "Examples:",
            "  ml_server init iris --from-model model.onnx && ml_server package iris",
            "  ml_server package iris --output plugins/iris.jar"})
final class PackageCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "a model-only classifier directory (made by init --from-model)")
    Path dir;

    @Option(names = "--output", paramLabel = "FILE.jar", description = "where to write the jar (default DIR/target/NAME-VERSION.jar)")
    Path output;

    @Override
    public Integer call() {
        Terminal.quietLogs();
        if (!ModelDir.is(dir)) {
            throw new ToolException(dir + " is not a model-only classifier directory (an mlserver.yaml beside a model, "
                    + "no pom.xml): make one with ml_server init DIR --from-model MODEL.onnx; a Maven module packages with mvn package");
        }
        long start = System.nanoTime();
        ModelPackage result = ModelPackage.write(dir, Optional.ofNullable(output),
                Routes.reservedNames(ConfigLoader.create(System.getenv()).load(Optional.empty())));
        PrintWriter out = Terminal.out(spec);
        out.printf("Packaged %s %s into %s (%s) in %.1f s%n", result.manifest().get("Plugin-Id"),
                result.manifest().get("Plugin-Version"), result.jar(), String.join(", ", result.artifacts()),
                (System.nanoTime() - start) / 1e9);
        result.manifest().forEach((k, v) -> out.println("  " + k + ": " + v));
        out.flush();
        return 0;
    }
}
