package dev.mlserver.gateway.cli;

import com.google.cloud.tools.jib.api.JibContainer;
import dev.mlserver.gateway.cli.deploy.BaseImages;
import dev.mlserver.gateway.cli.deploy.BuildRecord;
import dev.mlserver.gateway.cli.deploy.DeployException;
import dev.mlserver.gateway.cli.deploy.ImageBuilder;
import dev.mlserver.gateway.cli.deploy.ImagePlanner;
import dev.mlserver.gateway.cli.deploy.ImageSpec;
import dev.mlserver.gateway.cli.deploy.MavenBuild;
import dev.mlserver.gateway.cli.deploy.PluginJar;
import dev.mlserver.gateway.cli.deploy.RegistryTags;
import dev.mlserver.gateway.cli.deploy.RuntimeJar;
import dev.mlserver.gateway.repo.ClassifierModule;
import dev.mlserver.gateway.repo.Repository;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "build",
        mixinStandardHelpOptions = true,
        description = {"Build the classifier plugin jars with Maven, a Dockerfile, and an OCI image with Jib.",
            "The image holds the gateway plus the classifiers at fixed versions; it goes to a tarball or straight "
                + "to a registry. No Docker daemon is needed. What was built is recorded for `ml_server push`."},
        footer = {"", "Examples:",
            "  ml_server build                         # the family image, to a tarball",
            "  ml_server build --classifier-path plugins/iris",
            "  ml_server build --base-image tar://target/mlserver-jre.tar   # see base-image",
            "  ml_server build --jar iris-1.0.0.jar --output /tmp/iris.tar",
            "  ml_server build --classifier-path classifiers/sentiment \\",
            "      --registry registry.example.com"})
final class BuildCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--repo", paramLabel = "DIR", description = "the repository (default: found from the current directory)")
    Path repo;

    @Option(names = "--classifier-path", paramLabel = "P",
            description = "a classifier module directory; repeatable (default: every module under plugins/ or classifiers/)")
    List<Path> classifierPaths = new ArrayList<>();

    @Option(names = "--jar", paramLabel = "JAR", description = "an already-built plugin jar instead of running Maven; repeatable")
    List<Path> jars = new ArrayList<>();

    @ArgGroup(exclusive = true)
    Naming naming = new Naming();

    static final class Naming {
        @Option(names = "--tag", paramLabel = "T", description = "image name[:tag] (default <repository>-<classifier>:<version>)")
        String tag;

        @Option(names = "--tag-prefix", paramLabel = "P", description = "image name; the tag is the version")
        String tagPrefix;
    }

    @Option(names = "--base-image", paramLabel = "IMG", defaultValue = ImagePlanner.DEFAULT_BASE_IMAGE,
            description = "JRE base image: a registry reference, or tar://FILE made offline by `ml_server base-image`"
                    + " (default: ${DEFAULT-VALUE})")
    String baseImage;

    @Option(names = "--output", paramLabel = "FILE", description = "the image tarball (default target/<name>-<tag>.tar)")
    Path output;

    @Option(names = "--registry", paramLabel = "R", description = "push straight to this registry instead of a tarball")
    String registry;

    @Option(names = "--insecure", description = "the registry speaks plain HTTP or has an unverified certificate")
    boolean insecure;

    @Option(names = "--force", description = "with --registry: overwrite an existing version tag")
    boolean force;

    @Option(names = "--skip-tests", description = "build the plugin jars without running their tests")
    boolean skipTests;

    @Option(names = "--offline", description = "run Maven offline (-o)")
    boolean offline;

    @Option(names = "--gateway-jar", paramLabel = "JAR", description = "the serving jar to put in the image (default: the mlserver-runtime.jar inside ml_server.jar)")
    Path gatewayJar;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Jib's layer caches (default: Jib's own)")
    Path cacheDir;

    @Option(names = "--created-epoch", paramLabel = "SECONDS",
            description = "the image's creation time in seconds since 1970 (default: SOURCE_DATE_EPOCH, else now)")
    Long createdEpoch;

    @Option(names = "--record", paramLabel = "FILE", description = "where to record the build (default target/" + BuildRecord.FILE + ")")
    Path record;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!jars.isEmpty() && !classifierPaths.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give --jar or --classifier-path, not both");
        }
        if (registry != null && output != null) {
            throw new ParameterException(spec.commandLine(), "give --output (a tarball) or --registry, not both");
        }
        Map<String, String> env = System.getenv();
        BaseImages.check(baseImage);
        Repository repository = repository();
        List<PluginJar> plugins = pluginJars(repository, env, err);
        ImageSpec image = ImagePlanner.plan(new ImagePlanner.Request(repository.name(), plugins, gatewayJar(repository),
                baseImage, Optional.ofNullable(naming.tag), Optional.ofNullable(naming.tagPrefix),
                createdEpoch != null ? Instant.ofEpochSecond(createdEpoch) : created(env),
                repository.git(), repository.root().resolve("target").resolve("docker")));
        out.println("building " + image.reference() + " from " + image.baseImage() + " with "
                + String.join(", ", image.classifiers().stream().map(c -> c.name() + " " + c.version()).toList()));
        out.flush();
        ImageBuilder builder = new ImageBuilder(Optional.ofNullable(cacheDir), insecure, env, err, System.console() != null);
        BuildRecord result;
        if (registry != null) {
            var target = ImageBuilder.targetReference(registry, image);
            if (!force) {
                Optional<String> existing = new RegistryTags(insecure, builder.credential()).digest(target);
                if (existing.isPresent()) {
                    throw new DeployException(target + " already exists (" + existing.get()
                            + "); a version tag is not overwritten: bump the version or pass --force");
                }
            }
            JibContainer container = builder.toRegistry(image, registry);
            result = new BuildRecord(image, container.getDigest().toString(), container.getImageId().toString(), null,
                    target.toString());
        } else {
            Path tarball = output != null ? output.toAbsolutePath()
                    : repository.root().resolve("target").resolve(image.name().replace('/', '_') + "-" + image.tag() + ".tar");
            JibContainer container = builder.toTarball(image, tarball);
            result = new BuildRecord(image, container.getDigest().toString(), container.getImageId().toString(),
                    tarball.toString(), null);
        }
        Path recordFile = record != null ? record : BuildRecord.defaultPath(repository.root());
        result.write(recordFile);
        out.println("built " + image.reference() + " " + result.digest());
        out.println(result.tarball() != null ? "tarball " + result.tarball() : "pushed " + result.pushed());
        out.println("recorded in " + recordFile);
        return 0;
    }

    private Repository repository() {
        if (repo != null) {
            return Repository.open(repo);
        }
        return Repository.open(classifierPaths.isEmpty() ? Path.of("") : classifierPaths.get(0));
    }

    private List<PluginJar> pluginJars(Repository repository, Map<String, String> env, PrintWriter err) {
        if (!jars.isEmpty()) {
            return jars.stream().map(PluginJar::read).toList();
        }
        List<ClassifierModule> modules = classifierPaths.isEmpty() ? repository.classifiers()
                : classifierPaths.stream().map(repository::classifierIn).toList();
        if (modules.isEmpty()) {
            throw new DeployException("no classifier module in " + repository.root()
                    + " (a classifier module has mlserver.yaml beside its pom.xml)");
        }
        MavenBuild maven = new MavenBuild(repository.root(), offline, skipTests, env);
        err.println("building plugin jars: " + String.join(" ", maven.command(modules)));
        err.flush();
        return maven.build(modules);
    }

    /** The serving jar that travels inside ml_server.jar; else the reactor's gateway/runtime/target/mlserver-runtime.jar. */
    private Path gatewayJar(Repository repository) {
        if (gatewayJar != null) {
            return gatewayJar.toAbsolutePath();
        }
        return RuntimeJar.extract().orElse(repository.root().resolve("gateway/runtime/target/mlserver-runtime.jar"));
    }

    /** SOURCE_DATE_EPOCH when set (reproducible builds), else now to the second. */
    private static Instant created(Map<String, String> env) {
        String epoch = env.get("SOURCE_DATE_EPOCH");
        if (epoch != null && !epoch.isBlank()) {
            try {
                return Instant.ofEpochSecond(Long.parseLong(epoch.trim()));
            } catch (NumberFormatException e) {
                throw new DeployException("SOURCE_DATE_EPOCH must be whole seconds, got '" + epoch + "'");
            }
        }
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }
}
