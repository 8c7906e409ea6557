package dev.mlserver.gateway.repo;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * A repository of classifier modules: its root, its {@code mlserver-repo.yaml}, every Maven
 * module below it, and the classifiers among them.
 */
public final class Repository {
    private static final Set<String> SKIPPED = Set.of("target", "node_modules", "lib", "src", "artifacts");
    private static final int MAX_DEPTH = 6;
    /** The pom property that names the family, stamped into plugin manifests as {@code Git-Repository}. */
    public static final String NAME_PROPERTY = "mlserver.repository";

    private final Path root;
    private final RepoConfig config;
    private final Map<String, Path> modulesByArtifactId;
    private final List<ClassifierModule> classifiers;

    private Repository(Path root, RepoConfig config, Map<String, Path> modules, List<ClassifierModule> classifiers) {
        this.root = root;
        this.config = config;
        this.modulesByArtifactId = modules;
        this.classifiers = classifiers;
    }

    /**
     * The repository holding {@code start}: the nearest directory upwards with a
     * {@code mlserver-repo.yaml}, else the root of the git work tree, else {@code start} itself.
     */
    public static Repository open(Path start) {
        Path given = start.toAbsolutePath().normalize();
        Path from = Files.isRegularFile(given) ? given.getParent() : given;
        if (!Files.isDirectory(from)) {
            throw new RepoException(start + " is not a directory");
        }
        Path root = findUp(from, RepoConfig.FILE).or(() -> findUp(from, ".git")).orElse(from);
        return scan(root);
    }

    private static Optional<Path> findUp(Path from, String marker) {
        for (Path dir = from; dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve(marker))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    private static Repository scan(Path root) {
        RepoConfig config = RepoConfig.load(root);
        String fallbackName = Scaffold.repositoryName(root);
        Map<String, Path> modules = new LinkedHashMap<>();
        List<ClassifierModule> classifiers = new ArrayList<>();
        try {
            Files.walkFileTree(root, Set.of(), MAX_DEPTH, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                    if (!dir.equals(root) && (name.startsWith(".") || SKIPPED.contains(name))) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    Path pom = dir.resolve("pom.xml");
                    if (Files.isRegularFile(pom)) {
                        PomFile pomFile = PomFile.read(pom);
                        pomFile.artifactId().ifPresent(id -> modules.putIfAbsent(id, dir));
                        if (Files.isRegularFile(dir.resolve("mlserver.yaml"))) {
                            String classifier = pomFile.artifactId().orElseThrow(() -> new RepoException(pom + " has no <artifactId>"));
                            String family = pomFile.property(NAME_PROPERTY).orElse(fallbackName);
                            classifiers.add(new ClassifierModule(classifier, dir, relative(root, dir), pomFile, family));
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new RepoException("cannot read " + root + ": " + e.getMessage(), e);
        }
        classifiers.sort(Comparator.comparing(ClassifierModule::name).thenComparing(ClassifierModule::relativeDir));
        for (int i = 1; i < classifiers.size(); i++) {
            ClassifierModule a = classifiers.get(i - 1);
            ClassifierModule b = classifiers.get(i);
            if (a.name().equals(b.name())) {
                throw new RepoException("two classifier modules are named '" + a.name() + "' (" + a.relative("pom.xml") + " and "
                        + b.relative("pom.xml") + "): the artifactId is the classifier's name, rename one");
            }
        }
        return new Repository(root, config, modules, List.copyOf(classifiers));
    }

    static String relative(Path root, Path dir) {
        return root.relativize(dir).toString().replace('\\', '/');
    }

    public Path root() {
        return root;
    }

    /**
     * The family's name, as images, labels and manifests spell it: the {@code mlserver.repository}
     * property its classifiers share, else the root directory's name.
     */
    public String name() {
        List<String> named = classifiers.stream().map(ClassifierModule::repository).distinct().toList();
        return named.size() == 1 ? named.get(0) : Scaffold.repositoryName(root);
    }

    /** What git knows of the repository; empty values outside a git work tree. */
    public GitInfo git() {
        try (org.eclipse.jgit.lib.Repository repo = new FileRepositoryBuilder().findGitDir(root.toFile()).setMustExist(true).build()) {
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

    /**
     * The classifier module in {@code dir} (as given on the command line, relative to the working
     * directory); a message that says what is missing when it is none.
     */
    public ClassifierModule classifierIn(Path dir) {
        Path wanted = dir.toAbsolutePath().normalize();
        return classifierAt(wanted).orElseThrow(() -> new RepoException(
                !Files.isDirectory(wanted) ? "no directory " + dir
                : !wanted.startsWith(root) ? dir + " is outside the repository " + root
                : !Files.isRegularFile(wanted.resolve("pom.xml")) ? dir + " has no pom.xml: a classifier module is a Maven module with mlserver.yaml beside its pom.xml"
                : !Files.isRegularFile(wanted.resolve("mlserver.yaml")) ? dir + " has no mlserver.yaml: a classifier module has one beside its pom.xml (`ml_server init` writes one)"
                : dir + " is not a classifier module of " + root));
    }

    public RepoConfig config() {
        return config;
    }

    public List<ClassifierModule> classifiers() {
        return classifiers;
    }

    public Optional<ClassifierModule> classifier(String name) {
        return classifiers.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /** The classifier by name, or a message listing the ones there are. */
    public ClassifierModule require(String name) {
        return classifier(name).orElseThrow(() -> new RepoException("no classifier '" + name + "' in " + root
                + (classifiers.isEmpty() ? " (it has no module with a pom.xml and an mlserver.yaml)"
                        : "; there are: " + String.join(", ", classifiers.stream().map(ClassifierModule::name).toList()))));
    }

    /** The directory of the module with this artifactId, when it is part of the repository. */
    public Optional<Path> module(String artifactId) {
        return Optional.ofNullable(modulesByArtifactId.get(artifactId));
    }

    /**
     * The directories whose files make {@code module}'s plugin jar: its own, then those of the
     * repository's modules it bundles (compile and runtime dependencies), transitively.
     */
    public List<Path> sourceDirs(ClassifierModule module) {
        Set<Path> dirs = new LinkedHashSet<>();
        collect(module.dir(), module.pom(), dirs, 0);
        return List.copyOf(dirs);
    }

    private void collect(Path dir, PomFile pom, Set<Path> dirs, int depth) {
        if (!dirs.add(dir) || depth > MAX_DEPTH) {
            return;
        }
        for (PomFile.Dependency d : pom.dependencies()) {
            boolean bundled = d.scope() == null || d.scope().equals("compile") || d.scope().equals("runtime");
            if (bundled && d.artifactId() != null) {
                module(d.artifactId()).ifPresent(s -> collect(s, PomFile.read(s.resolve("pom.xml")), dirs, depth + 1));
            }
        }
    }

    /** The classifier whose module directory is {@code dir}. */
    public Optional<ClassifierModule> classifierAt(Path dir) {
        Path wanted = dir.toAbsolutePath().normalize();
        return classifiers.stream().filter(c -> c.dir().equals(wanted)).findFirst();
    }
}
