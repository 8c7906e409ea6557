package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.repo.ClassifierModule;
import dev.mlserver.gateway.repo.GitRepo;
import dev.mlserver.gateway.repo.Release;
import dev.mlserver.gateway.repo.Repository;
import dev.mlserver.gateway.repo.SemVer;
import dev.mlserver.gateway.repo.SourceChanges;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "version",
        mixinStandardHelpOptions = true,
        description = {"Print each classifier's version as its source tree says it (the pom's <version>) and as its "
                + "newest tag says it, and whether they agree.",
            "When they agree but the classifier's files (its model, mlserver.yaml, code, or a repository module "
                + "it bundles) changed after the tag, the version reads 1.2.0+N (N commits after the tag) or "
                + "1.2.0-dirty (uncommitted changes), with what changed.",
            "Exit 1 when they disagree or the files changed: a version changed by hand, tags ahead of the source, "
                + "or a change not released by `ml_server bump`."},
        footer = {"", "Examples:",
            "  ml_server version              # every classifier of the repository",
            "  ml_server version sentiment --json"})
final class VersionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "CLASSIFIER", description = "only this classifier")
    String classifier;

    @Option(names = "--repo", paramLabel = "DIR", description = "a directory of the repository (default: the current one)")
    Path repo = Path.of(".");

    @Option(names = "--json", description = "print JSON")
    boolean json;

    /**
     * One classifier's two versions and what they say together.
     *
     * @param version what the tree is: the source version, with {@code +N} or {@code -dirty} when it changed after the tag
     * @param changes what changed after the tag; null unless source and tag agree on the version
     */
    record Row(String classifier, String source, String version, String tagged, String tag, String state, boolean agree,
            SourceChanges changes) {}

    @Override
    public Integer call() {
        List<Row> rows = new ArrayList<>();
        Repository repository = Repository.open(repo);
        List<ClassifierModule> modules = classifier == null ? repository.classifiers() : List.of(repository.require(classifier));
        if (modules.isEmpty()) {
            throw new ToolException("no classifier module (pom.xml + mlserver.yaml) in " + repository.root());
        }
        try (GitRepo git = GitRepo.require(repository.root())) {
            List<Release> releases = Release.all(git);
            for (ClassifierModule m : modules) {
                rows.add(row(repository, m, releases, git));
            }
        }
        boolean agree = rows.stream().allMatch(Row::agree);
        if (json) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            for (Row r : rows) {
                ObjectNode o = array.addObject().put("classifier", r.classifier()).put("source_version", r.source());
                o.put("version", r.version());
                o.put("tag_version", r.tagged()).put("tag", r.tag()).put("state", r.state()).put("agree", r.agree());
                if (r.changes() != null) {
                    o.put("commits_since_tag", r.changes().commits());
                    r.changes().committed().forEach(o.putArray("changed_since_tag")::add);
                    r.changes().uncommitted().forEach(o.putArray("uncommitted")::add);
                }
            }
            Terminal.json(spec, array);
        } else {
            Terminal.table(Terminal.out(spec), List.of("CLASSIFIER", "SOURCE", "TAGS", "TAG", "STATE"),
                    rows.stream().map(r -> List.of(r.classifier(), r.version(), orDash(r.tagged()), orDash(r.tag()), r.state())).toList());
        }
        return agree ? 0 : 1;
    }

    private static Row row(Repository repository, ClassifierModule m, List<Release> releases, GitRepo git) {
        String source = m.version().orElse("?");
        Optional<Release> latest = Release.latest(releases, m.name());
        if (latest.isEmpty()) {
            return new Row(m.name(), source, source, null, null, "untagged: no release tag yet", true, null);
        }
        Release r = latest.get();
        Optional<SemVer> sourceVersion = SemVer.parse(source);
        if (sourceVersion.isEmpty()) {
            return row(m, source, r, "disagree: pom version is not semantic", false);
        }
        int c = sourceVersion.get().compareTo(r.version());
        if (c == 0) {
            SourceChanges changes = SourceChanges.of(repository, m, r, git);
            if (changes.none()) {
                return row(m, source, r, "agree", true);
            }
            return new Row(m.name(), source, changes.version(), r.version().toString(), r.tag(), changes.reason(), false,
                    changes);
        }
        String state = c > 0
                ? "disagree: source is ahead of the newest tag (changed without `ml_server bump`?)"
                : "disagree: the newest tag is ahead of the source";
        return row(m, source, r, state, false);
    }

    private static Row row(ClassifierModule m, String source, Release r, String state, boolean agree) {
        return new Row(m.name(), source, source, r.version().toString(), r.tag(), state, agree, null);
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }
}
