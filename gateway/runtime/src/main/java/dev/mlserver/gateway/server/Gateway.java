package dev.mlserver.gateway.server;

import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.cache.PredictionCache;
import dev.mlserver.gateway.config.ClassifierSettings;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.connection.ConnectionGuard;
import dev.mlserver.gateway.connection.Http2Flushes;
import dev.mlserver.gateway.http.InvalidRequests;
import dev.mlserver.gateway.http.Json;
import dev.mlserver.gateway.http.RouteServices;
import dev.mlserver.gateway.http.RouteTable;
import dev.mlserver.gateway.logging.LogSetup;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.metrics.WarmupMark;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.plugin.PluginIntegrity;
import dev.mlserver.gateway.plugin.PluginLoader;
import dev.mlserver.gateway.plugin.WorkDirectory;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.ClassifierVersions;
import dev.mlserver.gateway.registry.PluginDirectory;
import dev.mlserver.gateway.registry.PluginWatcher;
import dev.mlserver.gateway.v2.GrpcService;
import dev.mlserver.gateway.v2.Inference;
import dev.mlserver.gateway.v2.RestRoutes;
import dev.mlserver.gateway.versions.ShadowMirror;
import dev.mlserver.gateway.versions.Traffic;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running gateway: an HTTP server on every event loop, the plugin registry behind it, and
 * the metrics of both. {@link #start} listens at once and loads the plugins in the background;
 * {@code /health/ready} turns 200 when they are loaded. With {@code plugins.watch} the plugins
 * directory is then watched for new, replaced and removed jars.
 */
public final class Gateway {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

    private final GatewayConfig config;
    private final Supplier<GatewayConfig> source;
    private volatile GatewayConfig current;
    private final Vertx vertx;
    private final GatewayMetrics metrics;
    private final ClassifierRegistry registry;
    private final WorkDirectory workDir;
    private final PluginDirectory directory;
    private final PluginLoader loader;
    private final Traffic traffic;
    private final ShadowMirror shadows;
    private final RouteTable routes;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicBoolean refusing = new AtomicBoolean();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final AtomicInteger port = new AtomicInteger(-1);
    private final AtomicInteger grpcPort = new AtomicInteger(-1);
    private volatile String grpcDeploymentId;
    private final ConnectionGuard guard;
    private volatile long drainDeadline;
    private volatile PluginWatcher watcher;
    private volatile String deploymentId;

    private Gateway(GatewayConfig config, Supplier<GatewayConfig> source) {
        this.config = config;
        this.current = config;
        this.source = source;
        LogSetup.apply(config.logging().format());
        this.metrics = new GatewayMetrics();
        int eventLoops = config.server().eventLoops() > 0
                ? config.server().eventLoops()
                : Runtime.getRuntime().availableProcessors();
        this.vertx = Vertx.builder()
                .with(new VertxOptions().setEventLoopPoolSize(eventLoops).setPreferNativeTransport(config.server().nativeTransport())
                        .setMetricsOptions(metrics.vertxOptions()))
                .withMetrics(metrics.vertxMetricsFactory())
                .build();
        this.guard = ConnectionGuard.create(config.server(), metrics.registry());
        this.workDir = WorkDirectory.open(config.plugins().workDir());
        this.routes = RouteTable.create(config);
        this.loader = new PluginLoader(config, workDir.path(), GatewayVersion.current(), routes.reservedNames(),
                PluginIntegrity.create(config.plugins(), metrics));
        // a retired version's series go, its shadow pairs' too: the mirror is made after the registry it reads
        this.registry = new ClassifierRegistry(loader, vertx, ClassifierRegistry.Listener.both(metrics, new ClassifierRegistry.Listener() {
            @Override
            public void retired(ClassifierInfo info) {
                shadows.retired(info);
            }
        }));
        this.directory = new PluginDirectory(config.plugins().dir(), registry);
        this.traffic = Traffic.create(registry, config.classifiers());
        this.shadows = ShadowMirror.create(registry, traffic, metrics.registry());
    }

    public static Gateway create(GatewayConfig config) {
        return new Gateway(config, () -> config);
    }

    /**
     * A gateway whose config can be reloaded while it serves: {@code source} reads it again (the
     * file, the environment and the command line's overrides) on SIGHUP or
     * {@code POST /admin/config/reload}.
     */
    public static Gateway create(GatewayConfig config, Supplier<GatewayConfig> source) {
        return new Gateway(config, source);
    }

    /** What a config reload changed. */
    public record ConfigReload(List<String> reloadedClassifiers, List<String> needRestart) {
        public ConfigReload {
            reloadedClassifiers = List.copyOf(reloadedClassifiers);
            needRestart = List.copyOf(needRestart);
        }
    }

    /**
     * Reads the config again and applies its {@code classifiers:} sections: the routing (default,
     * canary, shadow) at once, in one step; changed limits or cache by loading that classifier's
     * jars again beside the serving ones, which then drain (no request is lost). Other sections
     * take effect at the next start and are named in the result. An invalid config is refused
     * with a {@link ConfigException} and the config in effect stays. Blocking: loads jars.
     */
    public synchronized ConfigReload reloadConfig() {
        GatewayConfig next = source.get();
        GatewayConfig before = current;
        for (ClassifierSettings s : next.classifiers().byName().values()) {
            if (!s.cache().isMissingNode()) {
                PredictionCache.Settings.parse(s.cache(), "classifiers." + s.name() + ".cache");
            }
        }
        List<String> restart = new ArrayList<>();
        BiConsumer<String, Boolean> differs = (name, same) -> {
            if (!same) {
                restart.add(name);
            }
        };
        differs.accept("server", next.server().equals(before.server()));
        differs.accept("api", next.api().equals(before.api()));
        differs.accept("repository", next.repository().equals(before.repository()));
        differs.accept("plugins", next.plugins().equals(before.plugins()));
        differs.accept("limits", next.limits().equals(before.limits()));
        differs.accept("onnx", next.onnx().equals(before.onnx()));
        differs.accept("security", next.security().equals(before.security()));
        differs.accept("logging", next.logging().equals(before.logging()));
        differs.accept("lifecycle", next.lifecycle().equals(before.lifecycle()));
        loader.classifiers(next.classifiers());
        traffic.apply(next.classifiers());
        current = next;
        List<String> reloaded = new ArrayList<>();
        for (ClassifierVersions versions : registry.classifiers()) {
            String name = versions.name();
            ClassifierSettings was = before.classifiers().settings(name);
            ClassifierSettings now = next.classifiers().settings(name);
            if (!was.limits().equals(now.limits()) || !was.cache().equals(now.cache())
                    || !before.classifiers().environment().equals(next.classifiers().environment())) {
                versions.all().forEach(c -> registry.load(c.info().jar()));
                reloaded.add(name);
            }
        }
        LOG.info("config reloaded: routing {}; classifiers reloaded for new limits or cache: {}{}", traffic.all(), reloaded,
                restart.isEmpty() ? "" : "; changed sections that take effect at the next start: " + restart);
        return new ConfigReload(reloaded, restart);
    }

    /** The config in effect: the one started with, with the {@code classifiers:} of the last reload. */
    public GatewayConfig currentConfig() {
        return current;
    }

    /** Listens, then loads the plugins in the background. Completes with the bound port. */
    public Future<Integer> start() {
        Inference inference = Inference.create(registry, metrics, GatewayVersion.current(), draining::get, refusing::get);
        Router router = routes.router(RouteServices.create(vertx, config, registry, directory, metrics, draining::get,
                refusing::get, traffic, shadows, this::reloadConfig), r -> RestRoutes.mount(r, vertx, inference, config, metrics));
        int instances = Math.max(1, config.server().eventLoops() > 0
                ? config.server().eventLoops() : Runtime.getRuntime().availableProcessors());
        // port 0 for several servers: a negative port makes them share one random port
        int listenPort = config.server().port() == 0 ? -1 : config.server().port();
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.server().host())
                .setPort(listenPort)
                .setCompressionSupported(false)
                // HTTP/1.1 only: no h2c upgrade (a JDK client's upgrade of a request with a body
                // was seen to stall until the idle timeout); HTTP/2 belongs to the mesh in front
                .setHttp2ClearTextEnabled(false)
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(16384);
        ConnectionGuard.apply(config.server().connections(), options);
        return vertx.deployVerticle(() -> new ServerVerticle(options, router, port, server -> guard.install(server, options),
                        this::drainLeftMillis),
                        new DeploymentOptions().setInstances(instances))
                .recover(e -> Future.failedFuture(new CannotListen(config.server().port(), CannotListen.HTTP_SETTINGS, e)))
                .compose(id -> {
                    deploymentId = id;
                    return startGrpc(inference, instances);
                })
                .map(id -> {
                    LOG.info("mlserver {} listening on {}:{} ({}), {}; plugins from {}", GatewayVersion.current(),
                            config.server().host(), port.get(), transport(), config.grpc().enabled()
                                    ? "gRPC (inference.GRPCInferenceService) on " + config.server().host() + ":" + grpcPort.get()
                                    : "gRPC off",
                            config.plugins().dir().toAbsolutePath().normalize());
                    LOG.info("{}", urls(config.server().host(), port.get()));
                    vertx.executeBlocking(directory::initialLoad, false).onComplete(done -> {
                        LOG.info("{} classifier(s) serving: {}", registry.serving().size(),
                                registry.serving().stream().map(c -> c.info().name() + " " + c.info().version()).toList());
                        // the watcher starts first: its scans share JDK code with the bulkheads'
                        // threads, which the JIT then compiles for both before readiness
                        startWatching();
                        warmUp().onComplete(warmed -> {
                            metrics.warmupEnded();
                            registry.warmedUp();
                        });
                    });
                    return port.get();
                });
    }

    /** The Open Inference Protocol's gRPC port, when {@code grpc.enabled}: HTTP/2 (h2c) only. */
    private Future<Void> startGrpc(Inference inference, int instances) {
        if (!config.grpc().enabled()) {
            return Future.succeededFuture();
        }
        GrpcServer grpc = GrpcService.create(vertx, inference, config, metrics);
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.server().host())
                // -2, not -1: the HTTP servers share the random port of -1
                .setPort(config.grpc().port() == 0 ? -2 : config.grpc().port())
                .setHttp2ClearTextEnabled(true)
                .setIdleTimeout(120);
        // the guard's HTTP/1.1 checks stay off this port; its connections count against the same cap
        Consumer<HttpServer> setUp = server -> server.connectionHandler(connection -> {
            if (guard.admitCounted(connection)) {
                Http2Flushes.install(connection);
            }
        });
        return vertx.deployVerticle(() -> new ServerVerticle(options, guard.budgeted(grpc), grpcPort, setUp, this::drainLeftMillis),
                        new DeploymentOptions().setInstances(instances))
                .recover(e -> Future.failedFuture(new CannotListen(config.grpc().port(), CannotListen.GRPC_SETTINGS, e)))
                .map(id -> {
                    grpcDeploymentId = id;
                    return null;
                });
    }

    /** The bound gRPC port; -1 when gRPC is off. */
    public int grpcPort() {
        return grpcPort.get();
    }

    /** Where a person finds the gateway: the console, the API docs and the metrics. */
    static String urls(String host, int port) {
        String base = "http://" + (host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host) + ":" + port;
        return "console " + base + "/  API docs " + base + "/docs  metrics " + base + "/metrics";
    }

    /** The network transport the event loops use, and why, for the start-up line. */
    String transport() {
        if (vertx.isNativeTransportEnabled()) {
            return "epoll transport";
        }
        if (!config.server().nativeTransport()) {
            return "NIO transport: server.native_transport is false";
        }
        Throwable cause = vertx.unavailableNativeTransportCause();
        return "NIO transport: the native one is unavailable"
                + (cause == null ? "" : " (" + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")");
    }

    /**
     * Drives every serving classifier's predict route, and its Open Inference Protocol infer over
     * REST and gRPC, before readiness; see {@link ServingWarmup}.
     */
    private Future<?> warmUp() {
        GatewayConfig.Warmup warmup = config.warmup();
        if (!warmup.enabled() || draining.get()) {
            return Future.succeededFuture();
        }
        String prefix = config.api().includeVersionInUrl() ? "/" + config.api().version() : "";
        List<ServingWarmup.Target> targets = registry.serving().stream()
                .filter(c -> c.info().example() != null && !c.info().example().isNull())
                .flatMap(c -> warmupTargets(c.info(), prefix, warmup.concurrency()).stream())
                .toList();
        long start = System.nanoTime();
        return new ServingWarmup(vertx, ServingWarmup.address(config.server().host()), port.get(), grpcPort(), warmup,
                WarmupMark.headers(config.security().tokensEnabled()))
                .run(targets)
                .onSuccess(outcomes -> ServingWarmup.log(outcomes, (System.nanoTime() - start) / 1_000_000));
    }

    /** What the warm-up drives of one classifier: its predict route, its v2 REST infer route, and gRPC's ModelInfer when on. */
    private List<ServingWarmup.Target> warmupTargets(ClassifierInfo info, String prefix, int concurrency) {
        List<ServingWarmup.Target> targets = new ArrayList<>(List.of(
                ServingWarmup.target(prefix, info.name(), info.example(), info.limits(), concurrency, Json.MAPPER),
                ServingWarmup.protocolTarget(info.name(), Inference.exampleRequest(info, info.example()), info.limits(),
                        concurrency, Json.MAPPER)));
        if (grpcPort() >= 0) {
            targets.add(ServingWarmup.grpcTarget(info.name(), Inference.exampleMessages(info, info.example()), info.limits(),
                    concurrency));
        }
        return targets;
    }

    private synchronized void startWatching() {
        if (config.lifecycle().watch() && !draining.get() && watcher == null) {
            watcher = PluginWatcher.start(directory, config.lifecycle().watchIntervalMs(), config.lifecycle().settleMs());
        }
    }

    /** The plugins directory as the registry sees it; scan it to reload by hand. */
    public PluginDirectory directory() {
        return directory;
    }

    public int port() {
        return port.get();
    }

    /** Every route this gateway serves, as declared. */
    public RouteTable routes() {
        return routes;
    }

    public ClassifierRegistry registry() {
        return registry;
    }

    /** Which version answers each classifier's unpinned routes. */
    public Traffic traffic() {
        return traffic;
    }

    /** The shadow comparisons so far. */
    public ShadowMirror shadows() {
        return shadows;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public Vertx vertx() {
        return vertx;
    }

    /** The connection limits in force: open connections, the body memory budget, deadlines. */
    public ConnectionGuard connections() {
        return guard;
    }

    public GatewayConfig config() {
        return config;
    }

    /** Whether the gateway has begun shutting down. */
    public boolean draining() {
        return draining.get();
    }

    /**
     * Shuts down gracefully: readiness turns 503 at once and watching stops; requests are still
     * served for {@code shutdown.grace_period_ms} (while load balancers take this instance out);
     * then new predictions get 503 {@code draining} with {@code Connection: close}, each open
     * connection stays until it has been idle a moment (a request already sent on it is answered,
     * not cut off), running predictions finish and are answered, and the port closes; all within
     * {@code shutdown.drain_timeout_ms}. Then the classifiers close and Vert.x stops. Idempotent; a second caller waits for the first.
     * Blocking.
     */
    public void stop() {
        if (!draining.compareAndSet(false, true)) {
            stopped.join();
            return;
        }
        try {
            if (deploymentId == null) {
                // never listened (the port was taken, say): nothing to drain
                registry.stopLoading();
                vertx.close().await();
                return;
            }
            long grace = config.lifecycle().gracePeriodMs();
            long drain = config.lifecycle().drainTimeoutMs();
            LOG.info("shutting down: readiness is 503; serving for {} ms more, then draining for up to {} ms", grace, drain);
            // a load in progress (an open() that never returns, say) is abandoned, not waited for
            registry.stopLoading();
            PluginWatcher w;
            synchronized (this) {
                w = watcher;
                watcher = null;
            }
            if (w != null) {
                w.stop(drain);
            }
            sleep(grace);
            directory.close();
            refusing.set(true);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drain);
            drainDeadline = deadline;
            // connections stay open until idle a moment: a request already on its way is answered
            // (503 draining, Connection: close), never dropped with the connection
            guard.drain();
            guard.awaitDrained(drain);
            try {
                if (deploymentId != null) {
                    // each server stops accepting and closes its connections once their responses are out
                    Future<Void> grpc = grpcDeploymentId == null ? Future.succeededFuture() : vertx.undeploy(grpcDeploymentId);
                    Future.join(vertx.undeploy(deploymentId), grpc).await();
                }
            } catch (RuntimeException e) {
                LOG.warn("undeploy: {}", e.toString());
            }
            registry.closeAll(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            vertx.close().await();
            workDir.close();
            LOG.info("mlserver stopped");
        } finally {
            stopped.complete(null);
        }
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What is left of the drain timeout once the drain has begun; all of it before. */
    private long drainLeftMillis() {
        long deadline = drainDeadline;
        return deadline == 0 ? config.lifecycle().drainTimeoutMs()
                : Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private static final class ServerVerticle extends VerticleBase {
        private final HttpServerOptions options;
        private final Handler<HttpServerRequest> router;
        private final AtomicInteger port;
        private final Consumer<HttpServer> setUp;
        private final LongSupplier drainLeftMillis;
        private HttpServer server;

        /** @param setUp what the server gets before it listens: its connection handler */
        ServerVerticle(HttpServerOptions options, Handler<HttpServerRequest> router, AtomicInteger port,
                       Consumer<HttpServer> setUp, LongSupplier drainLeftMillis) {
            this.options = options;
            this.router = router;
            this.port = port;
            this.setUp = setUp;
            this.drainLeftMillis = drainLeftMillis;
        }

        @Override
        public Future<?> start() {
            server = vertx.createHttpServer(options).invalidRequestHandler(InvalidRequests::handle).requestHandler(router);
            setUp.accept(server);
            return server.listen().onSuccess(s -> port.set(s.actualPort()));
        }

        /** Stops accepting; open connections close once their in-flight responses are sent, or when the drain timeout ends. */
        @Override
        public Future<?> stop() {
            return server.shutdown(drainLeftMillis.getAsLong(), TimeUnit.MILLISECONDS);
        }
    }
}
