package dev.mlserver.gateway.repo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a classifier's source holds that its release tag does not: files that make its plugin jar
 * (its {@code pom.xml}, {@code mlserver.yaml}, {@code artifacts/} and {@code src/main/}, and the
 * {@code pom.xml} and {@code src/main/} of the repository modules it bundles) changed by commits
 * after the tag, and uncommitted changes to them. Either way the tagged version no longer names what a build of this tree would serve.
 * Untracked files do not count, as in the {@code Git-Dirty} stamp of a build.
 *
 * @param committed files whose content at HEAD differs from the tag's, relative to the git work tree
 * @param commits commits after the tag that touch the module's files
 * @param uncommitted tracked files of the module with uncommitted changes, as {@code "modified: path"}
 */
public record SourceChanges(Release release, List<String> committed, int commits, List<String> uncommitted) {
    private static final int SHOWN = 3;
    /** What a classifier module's jar is made of; tests, docs and the rest of the tree are not. */
    private static final List<String> JAR_SOURCES = List.of("pom.xml", "mlserver.yaml", "artifacts", "src/main");

    public SourceChanges {
        Objects.requireNonNull(release, "release");
        committed = List.copyOf(committed);
        uncommitted = List.copyOf(uncommitted);
    }

    /** Compares {@code module}'s files in the work tree with those of {@code release}'s tag. */
    public static SourceChanges of(Repository repo, ClassifierModule module, Release release, GitRepo git) {
        Path top = git.workTree();
        List<String> paths = new ArrayList<>();
        for (Path dir : repo.sourceDirs(module)) {
            List<String> files = dir.equals(module.dir()) ? JAR_SOURCES : List.of("pom.xml", "src/main");
            for (String file : files) {
                Path absolute = dir.resolve(file).toAbsolutePath().normalize();
                if (absolute.startsWith(top)) {
                    paths.add(top.relativize(absolute).toString().replace('\\', '/'));
                }
            }
        }
        GitRepo.Drift drift = git.driftSince(release.tag(), paths);
        return new SourceChanges(release, drift.files(), drift.commits(), git.uncommittedChanges(paths));
    }

    public boolean none() {
        return committed.isEmpty() && uncommitted.isEmpty();
    }

    /**
     * The version this tree is: the tag's {@code 1.2.0} when nothing changed, {@code 1.2.0+3}
     * when 3 commits after the tag changed it, {@code -dirty} appended for uncommitted changes
     * (as a build stamps {@code Git-Commit}).
     */
    public String version() {
        String version = release.version().toString();
        if (!committed.isEmpty()) {
            version += "+" + commits;
        }
        return uncommitted.isEmpty() ? version : version + "-dirty";
    }

    /** One line: what changed since the tag, and what to do. */
    public String reason() {
        List<String> parts = new ArrayList<>();
        if (!committed.isEmpty()) {
            parts.add(commits + (commits == 1 ? " commit" : " commits") + " after " + release.tag() + " changed "
                    + shortList(committed));
        }
        if (!uncommitted.isEmpty()) {
            // "modified: path" as "modified path"
            parts.add("not committed: " + shortList(uncommitted.stream().map(c -> c.replaceFirst(": ", " ")).toList()));
        }
        String advice = uncommitted.isEmpty() ? "bump the version to release it" : "commit, then bump the version to release it";
        return "changed since the tag: " + String.join("; ", parts) + "; " + advice;
    }

    private static String shortList(List<String> items) {
        String shown = String.join(", ", items.subList(0, Math.min(SHOWN, items.size())));
        return items.size() > SHOWN ? shown + " and " + (items.size() - SHOWN) + " more" : shown;
    }
}
