package dev.mlserver.gateway.cli.deploy;

import com.google.cloud.tools.jib.api.CacheDirectoryCreationException;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Credential;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryException;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import com.google.cloud.tools.jib.api.buildplan.Port;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.frontend.CredentialRetrieverFactory;
import dev.mlserver.gateway.GatewayVersion;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

/**
 * Makes the image an {@link ImageSpec} describes with Jib, to a tarball or to a registry; no Docker
 * daemon is involved. Layers are reproducible (Jib fixes file times and ownership), so the same
 * spec gives the same digest wherever it is built.
 */
public final class ImageBuilder {
    /** Registry credentials, when the registry needs them; else Docker's config.json is consulted. */
    public static final String USERNAME_ENV = "MLSERVER_REGISTRY_USERNAME";
    public static final String PASSWORD_ENV = "MLSERVER_REGISTRY_PASSWORD";

    private final Optional<Path> cacheDir;
    private final boolean insecure;
    private final Map<String, String> env;
    private final PrintWriter progressOut;
    private final boolean terminal;

    /**
     * @param cacheDir Jib's layer caches ({@code base/} and {@code app/} under it); empty for Jib's defaults
     * @param insecure allow plain HTTP and unverified TLS registries
     */
    public ImageBuilder(Optional<Path> cacheDir, boolean insecure, Map<String, String> env, PrintWriter progressOut,
            boolean terminal) {
        this.cacheDir = cacheDir;
        this.insecure = insecure;
        this.env = env;
        this.progressOut = progressOut;
        this.terminal = terminal;
    }

    /** Builds to {@code tarball}: an OCI image layout in a tar ({@code skopeo inspect oci-archive:FILE}). */
    public JibContainer toTarball(ImageSpec spec, Path tarball) {
        try {
            Files.createDirectories(tarball.toAbsolutePath().getParent());
            return containerize(spec, Containerizer.to(TarImage.at(tarball.toAbsolutePath()).named(spec.reference())));
        } catch (IOException e) {
            throw new DeployException("cannot write " + tarball + ": " + e.getMessage(), e);
        } catch (InvalidImageReferenceException e) {
            throw new DeployException("'" + spec.reference() + "' is not an image reference", e);
        }
    }

    /** Builds straight to {@code registry}/name:tag. */
    public JibContainer toRegistry(ImageSpec spec, String registry) {
        ImageReference target = targetReference(registry, spec);
        RegistryImage image = RegistryImage.named(target);
        credential().ifPresent(c -> image.addCredential(c.getUsername(), c.getPassword()));
        image.addCredentialRetriever(CredentialRetrieverFactory.forImage(target, e -> { }).dockerConfig());
        return containerize(spec, Containerizer.to(image));
    }

    /** {@code registry/name:tag} as Jib parses it. */
    public static ImageReference targetReference(String registry, ImageSpec spec) {
        try {
            return ImageReference.parse(registry.replaceAll("/+$", "") + "/" + spec.reference());
        } catch (InvalidImageReferenceException e) {
            throw new DeployException("'" + registry + "/" + spec.reference() + "' is not an image reference", e);
        }
    }

    public Optional<Credential> credential() {
        String user = env.get(USERNAME_ENV);
        String password = env.get(PASSWORD_ENV);
        if (user == null || user.isBlank() || password == null) {
            return Optional.empty();
        }
        return Optional.of(Credential.from(user, password));
    }

    private JibContainer containerize(ImageSpec spec, Containerizer containerizer) {
        verifyFiles(spec);
        Progress progress = new Progress(progressOut, terminal);
        containerizer.setToolName("ml_server").setToolVersion(GatewayVersion.current())
                .setAllowInsecureRegistries(insecure)
                .addEventHandler(ProgressEvent.class, progress::onProgress)
                .addEventHandler(LogEvent.class, progress::onLog);
        cacheDir.ifPresent(dir -> containerizer.setBaseImageLayersCache(dir.resolve("base"))
                .setApplicationLayersCache(dir.resolve("app")));
        try {
            return builder(spec).containerize(containerizer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeployException("interrupted", e);
        } catch (RegistryException e) {
            throw new DeployException("registry: " + e.getMessage(), e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new DeployException("image build failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
        } catch (IOException | CacheDirectoryCreationException e) {
            throw new DeployException("image build failed: " + e.getMessage(), e);
        } finally {
            progress.finish();
        }
    }

    private JibContainerBuilder builder(ImageSpec spec) {
        JibContainerBuilder builder;
        try {
            builder = Jib.from(spec.baseImage());
        } catch (InvalidImageReferenceException e) {
            throw new DeployException("'" + spec.baseImage() + "' is not a base image reference", e);
        }
        Map<String, FileEntriesLayer.Builder> layers = new LinkedHashMap<>();
        for (ImageSpec.ImageFile f : spec.files()) {
            layers.computeIfAbsent(f.layer(), name -> FileEntriesLayer.builder().setName(name))
                    .addEntry(Path.of(f.source()), AbsoluteUnixPath.get(f.target()));
        }
        List<FileEntriesLayer> built = new ArrayList<>();
        layers.values().forEach(l -> built.add(l.build()));
        return builder.setFileEntriesLayers(built)
                .setFormat(ImageFormat.OCI)
                .setCreationTime(Instant.parse(spec.created()))
                .setLabels(spec.labels())
                .setUser(spec.user())
                .setWorkingDirectory(AbsoluteUnixPath.get(spec.workingDir()))
                .addExposedPort(Port.tcp(spec.port()))
                .setEntrypoint(spec.entrypoint())
                .setProgramArguments(List.of());
    }

    /** Every file is still the one that was planned: a changed jar means a new build. */
    private static void verifyFiles(ImageSpec spec) {
        for (ImageSpec.ImageFile f : spec.files()) {
            Path source = Path.of(f.source());
            if (!Files.isRegularFile(source)) {
                throw new DeployException(source + " is gone since the build: run `ml_server build` again");
            }
            if (!Digests.sha256(source).equals(f.sha256())) {
                throw new DeployException(source + " changed since the build: run `ml_server build` again");
            }
        }
    }
}
