package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.Bump;
import dev.mlserver.gateway.repo.Repository;
import dev.mlserver.gateway.repo.SemVer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bump",
        mixinStandardHelpOptions = true,
        description = {"Raise a classifier's version: edit the <version> of its pom.xml (its one place), commit that "
                + "file alone, and create an annotated tag in the format of mlserver-repo.yaml.",
            "Refuses, changing nothing, when the work tree has uncommitted changes or the tag exists."},
        footer = {"", "Examples:",
            "  ml_server bump sentiment minor            # 0.1.0 -> 0.2.0, sentiment-v0.2.0",
            "  ml_server bump sentiment patch --dry-run  # say what would happen",
            "  git push origin main sentiment-v0.2.0     # bump never pushes"})
final class BumpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CLASSIFIER", description = "the classifier (its module's artifactId)")
    String classifier;

    @Parameters(index = "1", paramLabel = "PART", description = "major, minor or patch")
    SemVer.Part part;

    @Option(names = "--repo", paramLabel = "DIR", description = "a directory of the repository (default: the current one)")
    Path repo = Path.of(".");

    @Option(names = "--dry-run", description = "print what would change, change nothing")
    boolean dryRun;

    @Override
    public Integer call() {
        Bump.Result result;
        result = Bump.run(Repository.open(repo), classifier, part, dryRun);
        PrintWriter out = Terminal.out(spec);
        if (dryRun) {
            out.printf("%s: %s -> %s (dry run, nothing changed)%n  would edit <version> in %s, commit it alone, tag %s%n",
                    result.classifier(), result.from(), result.to(), result.pom(), result.tag());
        } else {
            out.printf("%s: %s -> %s%n  edited <version> in %s%n  committed %s%n  tagged %s%n",
                    result.classifier(), result.from(), result.to(), result.pom(), result.commit(), result.tag());
            out.printf("Push with: git push origin HEAD %s%n", result.tag());
        }
        out.flush();
        return 0;
    }
}
