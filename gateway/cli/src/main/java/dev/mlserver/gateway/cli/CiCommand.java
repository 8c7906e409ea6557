package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.cli.deploy.CiWorkflow;
import dev.mlserver.gateway.cli.deploy.DeployException;
import dev.mlserver.gateway.cli.deploy.SourceRepository;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ci",
        mixinStandardHelpOptions = true,
        description = {"Write a GitHub Actions workflow that builds and pushes one classifier's image on a",
            "tag <classifier>-v<version> or classifiers/<classifier>/v<version>, or on a manual run."},
        footer = {"", "Examples:",
            "  ml_server ci                                  # .github/workflows/build-deploy.yml",
            "  ml_server ci -o docker/ci/build-deploy.yml",
            "  ml_server ci -o -                             # print it"})
final class CiCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "where to write it; - prints it (default .github/workflows/build-deploy.yml in the repository)")
    String output;

    @Option(names = "--repo", paramLabel = "DIR", description = "the repository (default: found from the current directory)")
    Path repo;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            SourceRepository repository = repo != null ? SourceRepository.at(repo) : SourceRepository.find(Path.of(""));
            String workflow = CiWorkflow.render(repository, repository.modules());
            if ("-".equals(output)) {
                out.print(workflow);
                out.flush();
                return 0;
            }
            Path file = output != null ? Path.of(output)
                    : repository.root().resolve(".github").resolve("workflows").resolve("build-deploy.yml");
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            Files.writeString(file, workflow, StandardCharsets.UTF_8);
            out.println("wrote " + file);
            return 0;
        } catch (DeployException | IOException e) {
            err.println("ml_server: " + e.getMessage());
            return 1;
        }
    }
}
