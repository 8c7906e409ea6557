package dev.mlserver.gateway.cli;

import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.JibContainer;
import dev.mlserver.gateway.cli.deploy.BuildRecord;
import dev.mlserver.gateway.cli.deploy.DeployException;
import dev.mlserver.gateway.cli.deploy.ImageBuilder;
import dev.mlserver.gateway.cli.deploy.RegistryTags;
import dev.mlserver.gateway.repo.Repository;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "push",
        mixinStandardHelpOptions = true,
        description = {"Push the image `ml_server build` made to a registry, as <registry>/<name>:<version>.",
            "Jib makes the recorded image again from the same files, straight to the registry (layers are "
                + "reproducible, so the digest is the built one, and this is checked). An existing version tag "
                + "is not overwritten unless --force; the same digest already there is success."},
        footer = {"", "Examples:",
            "  ml_server push --registry registry.example.com/ml",
            "  ml_server push --registry 127.0.0.1:5050 --insecure",
            "", "Credentials: " + ImageBuilder.USERNAME_ENV + " and " + ImageBuilder.PASSWORD_ENV
                + ", else Docker's ~/.docker/config.json."})
final class PushCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--registry", required = true, paramLabel = "R", description = "registry host[:port][/path]")
    String registry;

    @Option(names = "--insecure", description = "the registry speaks plain HTTP or has an unverified certificate")
    boolean insecure;

    @Option(names = "--force", description = "overwrite the version tag when it points to another image")
    boolean force;

    @Option(names = "--repo", paramLabel = "DIR", description = "the repository (default: found from the current directory)")
    Path repo;

    @Option(names = "--record", paramLabel = "FILE", description = "the build record (default target/" + BuildRecord.FILE + ")")
    Path record;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Jib's layer caches (default: Jib's own)")
    Path cacheDir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path recordFile = record != null ? record
                : BuildRecord.defaultPath(Repository.open(repo != null ? repo : Path.of("")).root());
        BuildRecord built = BuildRecord.read(recordFile);
        ImageBuilder builder = new ImageBuilder(Optional.ofNullable(cacheDir), insecure, System.getenv(), err,
                System.console() != null);
        ImageReference target = ImageBuilder.targetReference(registry, built.image());
        Optional<String> existing = new RegistryTags(insecure, builder.credential()).digest(target);
        if (existing.isPresent() && existing.get().equals(built.digest())) {
            out.println(target + " is already " + built.digest() + ": nothing to push");
            built.withPushed(target.toString()).write(recordFile);
            return 0;
        }
        if (existing.isPresent() && !force) {
            throw new DeployException(target + " already exists as " + existing.get() + ", not the built "
                    + built.digest() + "; a version tag is not overwritten: bump the version or pass --force");
        }
        out.println("pushing " + built.image().reference() + " to " + target);
        out.flush();
        JibContainer pushed = builder.toRegistry(built.image(), registry);
        String digest = pushed.getDigest().toString();
        built.withPushed(target.toString()).write(recordFile);
        out.println("pushed " + target + "@" + digest);
        if (!digest.equals(built.digest())) {
            throw new DeployException("the pushed digest " + digest + " differs from the built " + built.digest()
                    + " (the base image " + built.image().baseImage() + " moved?)");
        }
        return 0;
    }
}
