package dev.mlserver.gateway.cli.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * A classifier repository on disk: its root (the top of its Maven reactor), its classifier modules
 * under {@code plugins/} or {@code classifiers/}, and what git says about it.
 */
public final class SourceRepository {
    /** Where classifier modules live: the example family and repositories made by {@code ml_server init}. */
    public static final List<String> MODULE_DIRS = List.of("plugins", "classifiers");

    private final Path root;

    private SourceRepository(Path root) {
        this.root = root;
    }

    /** The repository at {@code root}, taken as given. */
    public static SourceRepository at(Path root) {
        Path r = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(r)) {
            throw new DeployException("no directory " + root);
        }
        return new SourceRepository(r);
    }

    /**
     * The repository holding {@code start}: the topmost directory above it that still has a
     * {@code pom.xml}, not climbing past a git work tree's top.
     */
    public static SourceRepository find(Path start) {
        Path dir = start.toAbsolutePath().normalize();
        Path found = Files.isRegularFile(dir.resolve("pom.xml")) ? dir : null;
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml"))) {
                found = d;
            } else if (found != null) {
                break;
            }
            if (Files.exists(d.resolve(".git"))) {
                break;
            }
        }
        if (found == null) {
            throw new DeployException("no Maven project at or above " + dir + " (run inside the repository or pass --repo)");
        }
        return new SourceRepository(found);
    }

    public Path root() {
        return root;
    }

    /** The repository's name when no pom names one: its directory's name, as an image name part. */
    public String defaultName() {
        String name = root.getFileName() == null ? "mlserver" : root.getFileName().toString();
        String cleaned = name.toLowerCase().replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        return cleaned.isEmpty() ? "mlserver" : cleaned;
    }

    /** Every classifier module under {@code plugins/*} and {@code classifiers/*}, sorted by path. */
    public List<ClassifierModule> modules() {
        List<ClassifierModule> modules = new ArrayList<>();
        for (String parent : MODULE_DIRS) {
            Path dir = root.resolve(parent);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> children = Files.list(dir)) {
                for (Path child : children.sorted().toList()) {
                    if (ClassifierModule.isModule(child)) {
                        modules.add(ClassifierModule.read(child, defaultName()));
                    }
                }
            } catch (IOException e) {
                throw new DeployException("cannot list " + dir + ": " + e.getMessage(), e);
            }
        }
        return modules;
    }

    /** The module named {@code name}. */
    public ClassifierModule module(String name) {
        List<ClassifierModule> all = modules();
        return all.stream().filter(m -> m.name().equals(name)).findFirst()
                .orElseThrow(() -> new DeployException("no classifier '" + name + "' in " + root + " (found: "
                        + String.join(", ", all.stream().map(ClassifierModule::name).toList()) + ")"));
    }

    /** What git knows of the repository; empty values outside a git work tree. */
    public GitInfo git() {
        try (Repository repo = new FileRepositoryBuilder().findGitDir(root.toFile()).setMustExist(true).build()) {
            ObjectId head = repo.resolve("HEAD");
            String remote = repo.getConfig().getString("remote", "origin", "url");
            return new GitInfo(Optional.ofNullable(head).map(ObjectId::name), Optional.ofNullable(remote));
        } catch (IOException | IllegalArgumentException e) {
            return new GitInfo(Optional.empty(), Optional.empty());
        }
    }

    /**
     * @param head the full id of the checked-out commit
     * @param remote the {@code origin} remote's URL
     */
    public record GitInfo(Optional<String> head, Optional<String> remote) {}
}
