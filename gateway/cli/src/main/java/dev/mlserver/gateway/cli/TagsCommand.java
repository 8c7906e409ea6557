package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.gateway.repo.GitRepo;
import dev.mlserver.gateway.repo.Release;
import dev.mlserver.gateway.repo.Repository;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tags",
        mixinStandardHelpOptions = true,
        description = {"List classifier versions from git tags, newest first (semantic version order).",
            "Reads <name>-v<version>, classifiers/<name>/v<version> and the legacy <name>/v<version>."},
        footer = {"", "Examples:",
            "  ml_server tags                 # every classifier",
            "  ml_server tags sentiment",
            "  ml_server tags --json"})
final class TagsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "CLASSIFIER", description = "only this classifier")
    String classifier;

    @Option(names = "--repo", paramLabel = "DIR", description = "a directory of the repository (default: the current one)")
    Path repo = Path.of(".");

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() {
        List<Release> releases;
        Repository repository = Repository.open(repo);
        try (GitRepo git = GitRepo.require(repository.root())) {
            releases = Release.all(git);
        }
        if (classifier != null) {
            releases = Release.of(releases, classifier);
            if (releases.isEmpty() && repository.classifier(classifier).isEmpty()) {
                throw new ToolException("no tags and no module for classifier '" + classifier + "'");
            }
        }
        if (json) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            for (Release r : releases) {
                array.addObject().put("classifier", r.classifier()).put("version", r.version().toString())
                        .put("tag", r.tag()).put("commit", r.commit()).put("format", r.format().template());
            }
            Terminal.json(spec, array);
            return 0;
        }
        if (releases.isEmpty()) {
            Terminal.out(spec).println(classifier == null ? "no classifier tags" : "no tags for " + classifier);
            Terminal.out(spec).flush();
            return 0;
        }
        Terminal.table(Terminal.out(spec), List.of("CLASSIFIER", "VERSION", "TAG", "COMMIT"),
                releases.stream().map(r -> List.of(r.classifier(), r.version().toString(), r.tag(), r.commit())).toList());
        return 0;
    }
}
