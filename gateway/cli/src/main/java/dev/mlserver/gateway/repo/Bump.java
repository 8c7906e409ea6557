package dev.mlserver.gateway.repo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

/**
 * Raises a classifier's version: rewrites the one {@code <version>} of its pom, commits that file
 * alone, and tags the commit with an annotated tag in the repository's format. Refuses, changing
 * nothing, on a dirty tree, an unreadable version or a tag that exists.
 */
public final class Bump {
    private Bump() {}

    /**
     * What a bump did or, for a dry run, would do.
     *
     * @param commit the new commit's abbreviated id; null for a dry run
     */
    public record Result(String classifier, SemVer from, SemVer to, String pom, String tag, String commit) {}

    public static Result run(Repository repo, String classifier, SemVer.Part part, boolean dryRun) {
        ClassifierModule module = repo.require(classifier);
        try (GitRepo git = GitRepo.require(repo.root())) {
            List<String> changes = git.uncommittedChanges();
            if (!changes.isEmpty()) {
                throw new RepoException("the work tree has uncommitted changes; commit or stash them first, so that the "
                        + "tag names exactly what is built:\n  " + String.join("\n  ", changes.subList(0, Math.min(20, changes.size())))
                        + (changes.size() > 20 ? "\n  ... and " + (changes.size() - 20) + " more" : ""));
            }
            String current = module.pom().ownVersion().orElseThrow(() -> new RepoException(module.pom().file()
                    + " has no <version> of its own: add one, the classifier's version lives there"));
            SemVer from = SemVer.parse(current).orElseThrow(() -> new RepoException(module.pom().file() + ": <version>"
                    + current + "</version> is not a semantic version MAJOR.MINOR.PATCH"));
            SemVer to = from.bump(part);
            String tag = repo.config().tagFormat().tag(classifier, to);
            if (git.tagExists(tag)) {
                throw new RepoException("tag " + tag + " already exists: " + classifier + " " + to
                        + " was released before; bump further or delete the tag");
            }
            Release.at(Release.all(git), classifier, to.toString()).ifPresent(r -> {
                throw new RepoException("tag " + r.tag() + " already names " + classifier + " " + to
                        + " (commit " + r.commit() + "); bump further or delete the tag");
            });
            String pomPath = git.workTree().relativize(module.pom().file().toAbsolutePath().normalize()).toString().replace('\\', '/');
            if (dryRun) {
                return new Result(classifier, from, to, pomPath, tag, null);
            }
            String updated = module.pom().withVersion(to.toString());
            try {
                Files.writeString(module.pom().file(), updated, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new RepoException("cannot write " + module.pom().file() + ": " + e.getMessage(), e);
            }
            String commit = git.commitOnly(pomPath, classifier + ": version " + to);
            git.tag(tag, classifier + " " + to);
            return new Result(classifier, from, to, pomPath, tag, commit);
        }
    }
}
