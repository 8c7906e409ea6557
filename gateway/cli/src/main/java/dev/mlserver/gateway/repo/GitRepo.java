package dev.mlserver.gateway.repo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.Status;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.AndTreeFilter;
import org.eclipse.jgit.treewalk.filter.PathFilterGroup;
import org.eclipse.jgit.treewalk.filter.TreeFilter;

/** The git operations of the CLI, through JGit: status, tags, one-file commits and annotated tags. */
public final class GitRepo implements AutoCloseable {
    private final Git git;

    private GitRepo(Git git) {
        this.git = git;
    }

    /** The git repository whose work tree holds {@code dir}, if any. */
    public static Optional<GitRepo> find(Path dir) {
        FileRepositoryBuilder builder = new FileRepositoryBuilder().readEnvironment().findGitDir(dir.toFile());
        if (builder.getGitDir() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new GitRepo(new Git(builder.build())));
        } catch (IOException e) {
            throw new RepoException("cannot open the git repository of " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Like {@link #find}, with a clear message when {@code dir} is not in a git repository. */
    public static GitRepo require(Path dir) {
        return find(dir).orElseThrow(() -> new RepoException(dir + " is not in a git repository: run `git init` "
                + "(ml_server init does it for a new repository)"));
    }

    /** Creates a git repository in {@code dir}, with {@code main} as its branch. */
    public static GitRepo init(Path dir) {
        try {
            return new GitRepo(Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call());
        } catch (GitAPIException e) {
            throw new RepoException("git init in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    public Path workTree() {
        return git.getRepository().getWorkTree().toPath().toAbsolutePath().normalize();
    }

    /** Tracked files with changes, staged or not, with their state; empty when the tree is clean. */
    public List<String> uncommittedChanges() {
        return uncommittedChanges(List.of());
    }

    /**
     * Like {@link #uncommittedChanges()}, for the files under {@code paths} (relative to the work
     * tree, {@code /}-separated; empty: every file). Untracked files do not count, as in the
     * {@code Git-Dirty} stamp of a build.
     */
    public List<String> uncommittedChanges(List<String> paths) {
        var command = git.status();
        if (!paths.contains("")) {
            paths.forEach(command::addPath);
        }
        Status status = call(command::call, "git status");
        List<String> out = new ArrayList<>();
        status.getAdded().forEach(f -> out.add("added: " + f));
        status.getChanged().forEach(f -> out.add("staged: " + f));
        status.getRemoved().forEach(f -> out.add("removed: " + f));
        status.getMissing().forEach(f -> out.add("deleted: " + f));
        status.getModified().forEach(f -> out.add("modified: " + f));
        status.getConflicting().forEach(f -> out.add("conflict: " + f));
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** The abbreviated id of HEAD, when there is a commit. */
    public Optional<String> headCommit() {
        return resolve(Constants.HEAD).map(id -> id.abbreviate(7).name());
    }

    /** The names of the tags that point (through annotation) at HEAD. */
    public Set<String> tagsAtHead() {
        Optional<ObjectId> head = resolve(Constants.HEAD);
        Set<String> out = new TreeSet<>();
        if (head.isEmpty()) {
            return out;
        }
        for (Tag tag : tags()) {
            if (tag.commit().equals(head.get().name())) {
                out.add(tag.name());
            }
        }
        return out;
    }

    /** A tag and the full id of the commit it points at. */
    public record Tag(String name, String commit) {
        public String shortCommit() {
            return commit.substring(0, Math.min(7, commit.length()));
        }
    }

    public List<Tag> tags() {
        List<Tag> out = new ArrayList<>();
        Repository repo = git.getRepository();
        try (RevWalk walk = new RevWalk(repo)) {
            for (Ref ref : repo.getRefDatabase().getRefsByPrefix(Constants.R_TAGS)) {
                ObjectId target = ref.getObjectId();
                try {
                    RevCommit commit = walk.parseCommit(target);
                    out.add(new Tag(ref.getName().substring(Constants.R_TAGS.length()), commit.name()));
                } catch (IOException e) {
                    // a tag of something other than a commit names no build; skip it
                }
            }
        } catch (IOException e) {
            throw new RepoException("cannot read the tags: " + e.getMessage(), e);
        }
        return out;
    }

    public boolean tagExists(String name) {
        try {
            return git.getRepository().exactRef(Constants.R_TAGS + name) != null;
        } catch (IOException e) {
            throw new RepoException("cannot read tag " + name + ": " + e.getMessage(), e);
        }
    }

    /** The abbreviated id of the last commit that touched {@code path} (relative to the work tree). */
    public Optional<String> lastCommitTouching(String path) {
        if (resolve(Constants.HEAD).isEmpty()) {
            return Optional.empty();
        }
        var log = git.log().setMaxCount(1);
        if (!path.isEmpty()) {
            log.addPath(path);
        }
        Iterable<RevCommit> commits = call(log::call, "git log");
        for (RevCommit c : commits) {
            return Optional.of(c.abbreviate(7).name());
        }
        return Optional.empty();
    }

    /**
     * How the files under {@code paths} (relative to the work tree; empty: every file) at HEAD
     * differ from {@code tag}'s commit.
     *
     * @param files the files whose content differs, sorted
     * @param commits the commits after the tag (reachable from HEAD, not from the tag) that touch {@code paths}
     */
    public record Drift(List<String> files, int commits) {
        public Drift {
            files = List.copyOf(files);
        }
    }

    /** What changed under {@code paths} between the commit {@code tag} names and HEAD. */
    public Drift driftSince(String tag, List<String> paths) {
        Repository repo = git.getRepository();
        ObjectId tagged = resolve(Constants.R_TAGS + tag + "^{commit}")
                .orElseThrow(() -> new RepoException("no tag " + tag));
        Optional<ObjectId> head = resolve(Constants.HEAD);
        if (head.isEmpty()) {
            return new Drift(List.of(), 0);
        }
        TreeFilter filter = paths.isEmpty() || paths.contains("") ? TreeFilter.ALL : PathFilterGroup.createFromStrings(paths);
        try (RevWalk walk = new RevWalk(repo); TreeWalk trees = new TreeWalk(repo)) {
            RevCommit from = walk.parseCommit(tagged);
            RevCommit to = walk.parseCommit(head.get());
            trees.setRecursive(true);
            trees.setFilter(AndTreeFilter.create(filter, TreeFilter.ANY_DIFF));
            trees.addTree(from.getTree());
            trees.addTree(to.getTree());
            List<String> files = new ArrayList<>();
            while (trees.next()) {
                files.add(trees.getPathString());
            }
            walk.reset();
            walk.setTreeFilter(AndTreeFilter.create(filter, TreeFilter.ANY_DIFF));
            walk.markStart(walk.parseCommit(head.get()));
            walk.markUninteresting(walk.parseCommit(tagged));
            int commits = 0;
            for (RevCommit ignored : walk) {
                commits++;
            }
            files.sort(Comparator.naturalOrder());
            return new Drift(files, commits);
        } catch (IOException e) {
            throw new RepoException("cannot compare " + tag + " with HEAD: " + e.getMessage(), e);
        }
    }

    /** Stages every file not ignored and commits it; returns the abbreviated commit id. */
    public String commitAll(String message) {
        call(() -> git.add().addFilepattern(".").call(), "git add");
        return call(() -> git.commit().setMessage(message).setSign(false).call(), "git commit").abbreviate(7).name();
    }

    /** Commits exactly {@code path} (relative to the work tree) and nothing else. */
    public String commitOnly(String path, String message) {
        call(() -> git.add().addFilepattern(path).call(), "git add");
        return call(() -> git.commit().setOnly(path).setMessage(message).setSign(false).call(), "git commit")
                .abbreviate(7).name();
    }

    /** Creates an annotated tag at HEAD. */
    public void tag(String name, String message) {
        call(() -> git.tag().setName(name).setMessage(message).setAnnotated(true).setSigned(false).call(), "git tag " + name);
    }

    private Optional<ObjectId> resolve(String revision) {
        try {
            return Optional.ofNullable(git.getRepository().resolve(revision));
        } catch (IOException e) {
            throw new RepoException("cannot resolve " + revision + ": " + e.getMessage(), e);
        }
    }

    private interface GitCall<T> {
        T call() throws GitAPIException;
    }

    private static <T> T call(GitCall<T> action, String what) {
        try {
            return action.call();
        } catch (GitAPIException | RuntimeException e) {
            throw new RepoException(what + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        // closes the repository too: Git.init's own, or the one open() built and handed over
        git.getRepository().close();
    }
}
