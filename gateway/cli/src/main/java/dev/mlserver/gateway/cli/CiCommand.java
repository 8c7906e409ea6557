package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.cli.deploy.CiWorkflow;
import dev.mlserver.gateway.repo.Repository;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ci",
        mixinStandardHelpOptions = true,
        description = {"Write a GitHub Actions workflow that builds and pushes one classifier's image.",
            "It runs on a tag <classifier>-v<version> or classifiers/<classifier>/v<version>, or on a manual run."},
        footer = {"", "Examples:",
            "  ml_server ci                       # .github/workflows/build-deploy.yml",
            "  ml_server ci -o docker/ci/build-deploy.yml",
            "  ml_server ci -o -                  # print it"})
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
        Repository repository = Repository.open(repo != null ? repo : Path.of(""));
        String workflow = CiWorkflow.render(repository);
        if ("-".equals(output)) {
            out.print(workflow);
            out.flush();
            return 0;
        }
        Path file = output != null ? Path.of(output)
                : repository.root().resolve(".github").resolve("workflows").resolve("build-deploy.yml");
        TextFile.write(file, workflow);
        out.println("wrote " + file);
        return 0;
    }
}
