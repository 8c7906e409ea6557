package dev.mlserver.gateway.dev;

import dev.mlserver.gateway.server.Gateway;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.repo.ClassifierModule;
import dev.mlserver.gateway.repo.RepoException;
import dev.mlserver.gateway.repo.Repository;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local development loop: one classifier served straight from its source module. The module
 * is packed into a plugin jar on the fly ({@link DevJar}) and loaded through the gateway's own
 * {@code ClassifierRegistry.load}, so what is served in development is loaded exactly as in
 * production. With {@code watch}, a rebuild of the module (new classes, card, artifacts or pom
 * version) is packed and loaded again; the old version serves until the new one is warm, and a
 * broken build is reported while the old one keeps serving.
 */
public final class DevServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DevServer.class);
    /** How often the module is looked at for changes, with {@code watch}. */
    public static final long POLL_MILLIS = 500;

    private final Gateway gateway;
    private final DevJar devJar;
    private final Path workDir;
    private final Path jar;
    private final ScheduledExecutorService watcher;
    private String loadedFingerprint;
    private String pendingFingerprint;

    private DevServer(Gateway gateway, DevJar devJar, Path workDir, boolean watch) {
        this.gateway = gateway;
        this.devJar = devJar;
        this.workDir = workDir;
        this.jar = workDir.resolve("plugins").resolve(devJar.module().name() + ".jar");
        this.watcher = watch ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mlserver-dev-watch");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /**
     * Serves the classifier whose module is {@code source} (its directory, its
     * {@code mlserver.yaml} or its {@code pom.xml}). The gateway's configured plugins directory
     * is not read. Returns once listening, with the classifier loaded (or, with {@code watch},
     * its failure reported).
     *
     * @throws RepoException when {@code source} is no classifier module, or without
     *     {@code watch} when the classifier cannot be built or loaded
     */
    public static DevServer start(Path source, GatewayConfig config, boolean watch) {
        Path dir = source.toAbsolutePath().normalize();
        if (Files.isRegularFile(dir)) {
            dir = dir.getParent();
        }
        if (!Files.isRegularFile(dir.resolve("mlserver.yaml")) || !Files.isRegularFile(dir.resolve("pom.xml"))) {
            throw new RepoException(source + " is not a classifier module: it needs a pom.xml and an mlserver.yaml side by side");
        }
        Repository repo = Repository.open(dir);
        Path moduleDir = dir;
        ClassifierModule module = repo.classifierAt(moduleDir).orElseThrow(() ->
                new RepoException(moduleDir + " is not a classifier module of " + repo.root()));
        Path workDir;
        try {
            workDir = Files.createTempDirectory("mlserver-dev-");
            Files.createDirectories(workDir.resolve("plugins"));
        } catch (IOException e) {
            throw new RepoException("cannot create a work directory: " + e.getMessage(), e);
        }
        // a plugins directory of its own that holds only the jar packed from the module; not
        // watched: the module is (with --watch), and its rebuilds are loaded by hand
        GatewayConfig devConfig = config.withPluginsDir(workDir.resolve("plugins"))
                .withLifecycle(config.lifecycle().withWatch(false));
        DevServer server = new DevServer(Gateway.create(devConfig), new DevJar(repo, module), workDir, watch);
        try {
            server.begin(watch);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void begin(boolean watch) {
        String fingerprint = devJar.fingerprint();
        PluginStatus packing = pack();
        loadedFingerprint = fingerprint;
        // the gateway loads the packed jar from its (otherwise empty) plugins directory at start
        gateway.start().await();
        while (!gateway.registry().initialLoadDone()) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RepoException("interrupted while loading " + devJar.module().name());
            }
        }
        PluginStatus status = packing != null ? packing : gateway.registry().statuses().stream()
                .filter(s -> s.jar().equals(jar.getFileName().toString())).findFirst()
                .orElseThrow(() -> new RepoException(devJar.module().name() + " was not loaded"));
        if (status.state() != PluginStatus.State.READY && !watch) {
            throw new RepoException(devJar.module().name() + " cannot be served: " + status.reason());
        }
        LOG.info("serving {} from {} on port {}{}", devJar.module().name(), devJar.module().dir(), gateway.port(),
                watch ? "; watching it for rebuilds" : "");
        if (watch) {
            watcher.scheduleWithFixedDelay(this::poll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Packs the module into its jar; a FAILED status when it cannot be packed, else null. */
    private PluginStatus pack() {
        try {
            devJar.write(jar);
            return null;
        } catch (RepoException e) {
            LOG.error("{}: {}", devJar.module().name(), e.getMessage());
            return new PluginStatus(jar.getFileName().toString(), null, PluginStatus.State.FAILED,
                    devJar.module().name(), null, e.getMessage(), java.time.Instant.now());
        }
    }

    /** Packs and loads the module now. Blocking. */
    PluginStatus reload() {
        PluginStatus packing = pack();
        if (packing != null) {
            return packing;
        }
        PluginStatus status = gateway.registry().load(jar);
        if (status.state() == PluginStatus.State.READY) {
            LOG.info("{} {} loaded from its source module", status.classifier(), status.version());
        }
        return status;
    }

    /** Reloads once a change has settled: the same new fingerprint on two polls in a row. */
    private void poll() {
        try {
            String now = devJar.fingerprint();
            if (now.equals(loadedFingerprint)) {
                pendingFingerprint = null;
                return;
            }
            if (!now.equals(pendingFingerprint)) {
                pendingFingerprint = now;
                return;
            }
            loadedFingerprint = now;
            pendingFingerprint = null;
            LOG.info("{} changed; reloading", devJar.module().name());
            reload();
        } catch (RuntimeException e) {
            LOG.error("watching {}: {}", devJar.module().name(), e.toString());
        }
    }

    public Gateway gateway() {
        return gateway;
    }

    public int port() {
        return gateway.port();
    }

    public String classifier() {
        return devJar.module().name();
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
            try {
                watcher.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        gateway.stop();
        try (Stream<Path> files = Files.walk(workDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            LOG.debug("cannot remove {}: {}", workDir, e.toString());
        }
    }
}
