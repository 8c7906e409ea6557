package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.repo.Repository;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides what goes into an image and stages it as a Docker build context: the gateway jar, the
 * image's gateway config, the plugin jars and a Dockerfile that says the same as the Jib build.
 */
public final class ImagePlanner {
    public static final String DEFAULT_BASE_IMAGE = "eclipse-temurin:17-jre";
    public static final String APP = "/app";
    public static final String GATEWAY_JAR = APP + "/mlserver-runtime.jar";
    /** Numeric, so that Kubernetes' runAsNonRoot can check it without an /etc/passwd entry. */
    public static final String USER = "10001:10001";
    public static final int PORT = 8000;
    public static final String LABEL_PREFIX = "dev.mlserver.classifier.";
    private static final int MAX_TAG = 128;

    /**
     * What the user asked for.
     *
     * @param tag {@code --tag}: an image name with or without {@code :tag}
     * @param tagPrefix {@code --tag-prefix}: the image name; the tag is the version
     * @param stagingRoot where the build context goes, in a directory named after the image
     */
    public record Request(
            String repository, List<PluginJar> jars, Path gatewayJar, String baseImage,
            Optional<String> tag, Optional<String> tagPrefix, Instant created,
            Repository.GitInfo git, Path stagingRoot) {}

    private ImagePlanner() {}

    public static ImageSpec plan(Request request) {
        List<PluginJar> jars = request.jars().stream().sorted(Comparator.comparing(PluginJar::name)).toList();
        if (jars.isEmpty()) {
            throw new DeployException("no classifier to put in the image");
        }
        Set<String> names = new HashSet<>();
        for (PluginJar jar : jars) {
            if (!names.add(jar.name())) {
                throw new DeployException("two plugin jars for classifier '" + jar.name() + "': an image holds one version of each");
            }
        }
        if (!Files.isRegularFile(request.gatewayJar())) {
            throw new DeployException("no gateway jar at " + request.gatewayJar() + " (build it with `mvn package` or pass --gateway-jar)");
        }
        String repository = repositoryName(request.repository(), jars);
        String[] nameAndTag = nameAndTag(repository, jars, request);
        String name = nameAndTag[0];
        String tag = nameAndTag[1];
        ImageSpec.checkName(name);
        ImageSpec.checkTag(tag);

        List<ImageSpec.Classifier> classifiers = jars.stream().map(j -> new ImageSpec.Classifier(
                j.name(), j.version(), j.manifest().gitTag(), j.commit().orElse(null))).toList();
        Path context = request.stagingRoot().resolve(name.replace('/', '_'));
        List<ImageSpec.ImageFile> files = stage(context, request.gatewayJar(), jars);
        String created = request.created().toString();
        Map<String, String> labels = labels(name, tag, repository, created, classifiers, jars, request.git());
        ImageSpec spec = new ImageSpec(name, tag, request.baseImage(), created, files, labels, entrypoint(),
                USER, PORT, APP, classifiers);
        Path dockerfile = context.resolve("Dockerfile");
        Optional<String> rendered = Dockerfiles.render(spec);
        if (rendered.isPresent()) {
            write(dockerfile, rendered.get());
        } else {
            delete(dockerfile);
        }
        return spec;
    }

    /** {@code java ... -jar /app/mlserver-runtime.jar serve --config /app/config/gateway.yaml}. */
    public static List<String> entrypoint() {
        return List.of("java", "-XX:MaxRAMPercentage=75", "-Djava.io.tmpdir=/tmp", "-jar", GATEWAY_JAR,
                "serve", "--config", ImageConfig.PATH);
    }

    private static String repositoryName(String fallback, List<PluginJar> jars) {
        Set<String> named = jars.stream().map(j -> j.manifest().repository()).filter(r -> r != null && !r.isBlank())
                .collect(Collectors.toCollection(java.util.TreeSet::new));
        if (named.size() > 1) {
            throw new DeployException("the plugin jars come from different repositories " + named
                    + ": an image holds one family (pass --tag to name it)");
        }
        String name = named.isEmpty() ? fallback : named.iterator().next();
        return name.toLowerCase().replaceAll("[^a-z0-9._-]+", "-");
    }

    private static String[] nameAndTag(String repository, List<PluginJar> jars, Request request) {
        String defaultTag = jars.size() == 1 ? jars.get(0).version() : familyTag(jars);
        if (request.tag().isPresent()) {
            String t = request.tag().get();
            int colon = t.lastIndexOf(':');
            if (colon > t.lastIndexOf('/')) {
                return new String[] {t.substring(0, colon), t.substring(colon + 1)};
            }
            return new String[] {t, defaultTag};
        }
        if (request.tagPrefix().isPresent()) {
            return new String[] {request.tagPrefix().get(), defaultTag};
        }
        String name = jars.size() == 1 ? imageName(repository, jars.get(0).name()) : repository;
        return new String[] {name, defaultTag};
    }

    /**
     * A classifier's image name: {@code <repository>-<classifier>}, or the classifier's name alone
     * when it is the repository's (a single-classifier repository).
     */
    public static String imageName(String repository, String classifier) {
        return repository.equals(classifier) ? classifier
                : repository + "-" + classifier;
    }

    /**
     * A family image's tag names every classifier version, {@code iris-1.0.0_sentiment-2.3.1}, so
     * that it pins them; past 128 characters it is the commit the jars were built from.
     */
    static String familyTag(List<PluginJar> jars) {
        String tag = jars.stream().map(j -> j.name() + "-" + j.version()).collect(Collectors.joining("_"));
        if (tag.length() <= MAX_TAG && ImageSpec.TAG.matcher(tag).matches()) {
            return tag;
        }
        Set<String> commits = jars.stream().map(j -> j.manifest().gitCommit()).collect(Collectors.toSet());
        if (commits.size() == 1 && commits.iterator().next() != null) {
            return "g" + commits.iterator().next();
        }
        throw new DeployException("the family's versions do not fit in a tag and its jars come from different"
                + " commits: pass --tag NAME:TAG");
    }

    private static Map<String, String> labels(String name, String tag, String repository, String created,
            List<ImageSpec.Classifier> classifiers, List<PluginJar> jars, Repository.GitInfo git) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("org.opencontainers.image.title", name);
        labels.put("org.opencontainers.image.description", "mlserver gateway " + GatewayVersion.current() + " serving "
                + classifiers.stream().map(c -> c.name() + " " + c.version()).collect(Collectors.joining(", ")));
        labels.put("org.opencontainers.image.version", tag);
        labels.put("org.opencontainers.image.created", created);
        // a remote that is a URL says where the source is; a local path (a clone of a clone) does not
        labels.put("org.opencontainers.image.source", git.remote()
                .filter(r -> r.matches("(?i)(https?|ssh|git)://.+|[\\w.-]+@[\\w.-]+:.+")).orElse(repository));
        revision(jars, git).ifPresent(r -> labels.put("org.opencontainers.image.revision", r));
        labels.put("dev.mlserver.repository", repository);
        labels.put("dev.mlserver.gateway.version", GatewayVersion.current());
        labels.put("dev.mlserver.classifiers", classifiers.stream().map(ImageSpec.Classifier::name).collect(Collectors.joining(",")));
        for (ImageSpec.Classifier c : classifiers) {
            labels.put(LABEL_PREFIX + c.name() + ".version", c.version());
            if (c.gitTag() != null) {
                labels.put(LABEL_PREFIX + c.name() + ".git_tag", c.gitTag());
            }
            if (c.gitCommit() != null) {
                labels.put(LABEL_PREFIX + c.name() + ".git_commit", c.gitCommit());
            }
        }
        return labels;
    }

    /** The commit every plugin jar was built from; else the checked-out commit. */
    private static Optional<String> revision(List<PluginJar> jars, Repository.GitInfo git) {
        Set<Optional<String>> commits = jars.stream().map(PluginJar::commit).collect(Collectors.toSet());
        if (commits.size() == 1 && commits.iterator().next().isPresent()) {
            return commits.iterator().next();
        }
        return git.head();
    }

    private static List<ImageSpec.ImageFile> stage(Path context, Path gatewayJar, List<PluginJar> jars) {
        try {
            Files.createDirectories(context.resolve("plugins"));
            try (var old = Files.list(context.resolve("plugins"))) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
            List<ImageSpec.ImageFile> files = new ArrayList<>();
            // the least often changed layer first: base, gateway, config, then one layer per classifier
            files.add(copy(gatewayJar, context.resolve("mlserver-runtime.jar"), "gateway", GATEWAY_JAR));
            Path config = context.resolve("gateway.yaml");
            write(config, ImageConfig.yaml());
            files.add(file(config, "config", ImageConfig.PATH));
            for (PluginJar jar : jars) {
                String file = jar.name() + ".jar";
                files.add(copy(jar.path(), context.resolve("plugins").resolve(file), "plugin-" + jar.name(),
                        ImageConfig.PLUGINS_DIR + "/" + file));
            }
            return files;
        } catch (IOException e) {
            throw new DeployException("cannot stage the image files in " + context + ": " + e.getMessage(), e);
        }
    }

    private static ImageSpec.ImageFile copy(Path from, Path to, String layer, String target) throws IOException {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        return file(to, layer, target);
    }

    private static ImageSpec.ImageFile file(Path staged, String layer, String target) {
        return new ImageSpec.ImageFile(layer, staged.toAbsolutePath().normalize().toString(), target, Digests.sha256(staged));
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new DeployException("cannot delete " + file + ": " + e.getMessage(), e);
        }
    }

    static void write(Path file, String text) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DeployException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
