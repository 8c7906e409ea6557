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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A repository of classifier modules: its root, its {@code mlserver-repo.yaml}, every Maven
 * module below it, and the classifiers among them.
 */
public final class Repository {
    private static final Set<String> SKIPPED = Set.of("target", "node_modules", "lib", "src", "artifacts");
    private static final int MAX_DEPTH = 6;

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
                            String name1 = pomFile.artifactId().orElseThrow(() -> new RepoException(pom + " has no <artifactId>"));
                            classifiers.add(new ClassifierModule(name1, dir, relative(root, dir), pomFile));
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new RepoException("cannot read " + root + ": " + e.getMessage(), e);
        }
        classifiers.sort(Comparator.comparing(ClassifierModule::name));
        return new Repository(root, config, modules, List.copyOf(classifiers));
    }

    static String relative(Path root, Path dir) {
        return root.relativize(dir).toString().replace('\\', '/');
    }

    public Path root() {
        return root;
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

    /** The classifier whose module directory is {@code dir}. */
    public Optional<ClassifierModule> classifierAt(Path dir) {
        Path wanted = dir.toAbsolutePath().normalize();
        return classifiers.stream().filter(c -> c.dir().equals(wanted)).findFirst();
    }
}
