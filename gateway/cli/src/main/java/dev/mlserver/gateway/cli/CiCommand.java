package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.cli.deploy.CiWorkflow;
import dev.mlserver.gateway.cli.deploy.MlServerSource;
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
            "It runs on a tag <classifier>-v<version> or classifiers/<classifier>/v<version>, or on a manual run.",
            "The runner builds ml_server from its git source, at the commit this ml_server was built from."},
        footer = {"", "Examples:",
            "  ml_server ci                       # .github/workflows/build-deploy.yml",
            "  ml_server ci -o docker/ci/build-deploy.yml",
            "  ml_server ci -o -                  # print it",
            "  ml_server ci --mlserver-ref v0.1.0 # build that tag of ml_server",
            "  ml_server ci --mlserver-source https://git.example.com/ml/mlserver.git"})
final class CiCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "where to write it; - prints it (default .github/workflows/build-deploy.yml in the repository)")
    String output;

    @Option(names = "--repo", paramLabel = "DIR", description = "the repository (default: found from the current directory)")
    Path repo;

    @Option(names = "--mlserver-source", paramLabel = "URL",
            description = "the git repository the runner builds ml_server from (default: the one this ml_server was built from)")
    String mlServerSource;

    @Option(names = "--mlserver-ref", paramLabel = "REF",
            description = "the commit or tag it builds (default: the commit this ml_server was built from)")
    String mlServerRef;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Repository repository = Repository.open(repo != null ? repo : Path.of(""));
        MlServerSource source = source();
        String workflow = CiWorkflow.render(repository, source);
        if (!CiWorkflow.buildsItsOwnMlServer(repository)) {
            warnAbout(source, spec.commandLine().getErr());
        }
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

    private MlServerSource source() {
        MlServerSource source = MlServerSource.stamped();
        if (mlServerSource != null) {
            source = source.withUrl(mlServerSource);
        }
        if (mlServerRef != null) {
            source = source.withRef(mlServerRef);
        }
        return source;
    }

    /** What the workflow will lack, or build differently, said once on stderr: the workflow is still written. */
    private static void warnAbout(MlServerSource source, PrintWriter err) {
        if (source.url().isEmpty()) {
            err.println("note: this ml_server was built from a clone with no remote a runner can fetch: set the repository"
                    + " variable MLSERVER_SOURCE to mlserver's git URL, or pass --mlserver-source");
        }
        if (source.ref().isEmpty()) {
            err.println("note: this ml_server was not built from a git commit: set the repository variable MLSERVER_REF,"
                    + " or pass --mlserver-ref");
        }
        if (source.modified()) {
            err.println("note: this ml_server was built from a tree with uncommitted changes; the runner builds commit "
                    + source.ref().orElseThrow() + " as committed");
        }
        err.flush();
    }
}
