package dev.mlserver.gateway.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mlserver.gateway.plugin.PluginLoadException;
import dev.mlserver.gateway.plugin.PluginManifest;
import dev.mlserver.gateway.repo.ClassifierModule;
import dev.mlserver.gateway.repo.GitRepo;
import dev.mlserver.gateway.repo.Release;
import dev.mlserver.gateway.repo.Repository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "list",
        mixinStandardHelpOptions = true,
        description = {"List the classifiers of a repository (from its sources and tags) or of a plugins directory "
                + "(from the jars' manifests), with version, git tag and commit."},
        footer = {"", "Examples:",
            "  ml_server list                  # the repository around the current directory",
            "  ml_server list target/plugins   # built plugin jars",
            "  ml_server list --json"})
final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "PATH", description = "a repository or a plugins directory (default: .)")
    Path path = Path.of(".");

    @Option(names = "--json", description = "print JSON")
    boolean json;

    /** One listed classifier; {@code problem} is set for a jar that cannot be read. */
    record Row(String classifier, String version, String gitTag, String gitCommit, String location, String problem) {}

    @Override
    public Integer call() {
        List<Row> rows;
        rows = isPluginsDir(path) ? fromJars(path) : fromRepository(path);
        if (json) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            for (Row r : rows) {
                var o = array.addObject().put("classifier", r.classifier()).put("version", r.version())
                        .put("git_tag", r.gitTag()).put("git_commit", r.gitCommit()).put("path", r.location());
                if (r.problem() != null) {
                    o.put("problem", r.problem());
                }
            }
            Terminal.json(spec, array);
        } else if (rows.isEmpty()) {
            Terminal.out(spec).println("no classifiers in " + path);
            Terminal.out(spec).flush();
        } else {
            Terminal.table(Terminal.out(spec), List.of("CLASSIFIER", "VERSION", "GIT_TAG", "COMMIT", "PATH"),
                    rows.stream().map(r -> List.of(dash(r.classifier()), dash(r.version()), dash(r.gitTag()),
                            dash(r.gitCommit()), r.location() + (r.problem() == null ? "" : "  (" + r.problem() + ")"))).toList());
        }
        return rows.stream().anyMatch(r -> r.problem() != null) ? 1 : 0;
    }

    private static boolean isPluginsDir(Path dir) {
        return Files.isDirectory(dir) && !Files.exists(dir.resolve("pom.xml")) && !jars(dir).isEmpty();
    }

    private static List<Path> jars(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<Row> fromJars(Path dir) {
        List<Row> rows = new ArrayList<>();
        for (Path jar : jars(dir)) {
            try (JarFile file = new JarFile(jar.toFile())) {
                if (file.getManifest() == null) {
                    rows.add(new Row(null, null, null, null, jar.toString(), "no manifest"));
                    continue;
                }
                PluginManifest m = PluginManifest.read(file.getManifest());
                rows.add(new Row(m.id(), m.version(), m.gitTag(), m.gitCommit(), jar.toString(), null));
            } catch (IOException | PluginLoadException e) {
                rows.add(new Row(null, null, null, null, jar.toString(), e.getMessage()));
            }
        }
        return rows;
    }

    private static List<Row> fromRepository(Path dir) {
        Repository repo = Repository.open(dir);
        List<Row> rows = new ArrayList<>();
        Optional<GitRepo> git = GitRepo.find(repo.root());
        try {
            List<Release> releases = git.map(Release::all).orElse(List.of());
            for (ClassifierModule m : repo.classifiers()) {
                String version = m.version().orElse(null);
                Optional<Release> tagged = version == null ? Optional.empty() : Release.at(releases, m.name(), version);
                String commit = tagged.map(Release::commit).orElseGet(() -> git.flatMap(g -> g.lastCommitTouching(
                        g.workTree().relativize(m.dir()).toString().replace('\\', '/'))).orElse(null));
                rows.add(new Row(m.name(), version, tagged.map(Release::tag).orElse(null), commit,
                        m.relativeDir().isEmpty() ? "." : m.relativeDir(), null));
            }
        } finally {
            git.ifPresent(GitRepo::close);
        }
        return rows;
    }

    private static String dash(String s) {
        return s == null ? "-" : s;
    }
}
