package dev.mlserver.gateway.http;

import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.metrics.GatewayMetrics;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.PluginDirectory;
import io.vertx.core.Vertx;
import dev.mlserver.gateway.versions.ShadowMirror;
import dev.mlserver.gateway.versions.Traffic;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

/** What route handlers serve from: the parts of the running gateway a {@link RouteGroup} may bind to. */
public final class RouteServices {
    private final Vertx vertx;
    private final GatewayConfig config;
    private final ClassifierRegistry registry;
    private final PluginDirectory directory;
    private final GatewayMetrics metrics;
    private final BooleanSupplier draining;
    private final BooleanSupplier refusing;
    private final Traffic traffic;
    private final ShadowMirror shadows;
    private final Callable<?> reloadConfig;
    private final RecentRequests recent = new RecentRequests();

    private RouteServices(Vertx vertx, GatewayConfig config, ClassifierRegistry registry, PluginDirectory directory,
                          GatewayMetrics metrics, BooleanSupplier draining, BooleanSupplier refusing, Traffic traffic,
                          ShadowMirror shadows, Callable<?> reloadConfig) {
        this.traffic = traffic;
        this.shadows = shadows;
        this.reloadConfig = reloadConfig;
        this.vertx = vertx;
        this.config = config;
        this.registry = registry;
        this.directory = directory;
        this.metrics = metrics;
        this.draining = draining;
        this.refusing = refusing;
    }

    /**
     * @param draining readiness answers 503 (shutdown has begun; requests are still served)
     * @param refusing predictions answer 503 {@code draining} (the grace period is over)
     * @param traffic which version answers each classifier's unpinned routes
     * @param shadows copies answered unpinned predictions to shadow versions
     * @param reloadConfig reads the gateway config again ({@code POST /admin/config/reload}); blocking
     */
    public static RouteServices create(Vertx vertx, GatewayConfig config, ClassifierRegistry registry,
                                       PluginDirectory directory, GatewayMetrics metrics, BooleanSupplier draining,
                                       BooleanSupplier refusing, Traffic traffic, ShadowMirror shadows,
                                       Callable<?> reloadConfig) {
        return new RouteServices(vertx, config, registry, directory, metrics, draining, refusing, traffic, shadows,
                reloadConfig);
    }

    /** Which version answers each classifier's unpinned routes. */
    public Traffic traffic() {
        return traffic;
    }

    /** The shadow copies and their comparisons. */
    public ShadowMirror shadows() {
        return shadows;
    }

    /** Reads the gateway config again; blocking. */
    Callable<?> reloadConfig() {
        return reloadConfig;
    }

    public Vertx vertx() {
        return vertx;
    }

    public GatewayConfig config() {
        return config;
    }

    public ClassifierRegistry registry() {
        return registry;
    }

    public PluginDirectory directory() {
        return directory;
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    /** Whether shutdown has begun (readiness answers 503). */
    public boolean draining() {
        return draining.getAsBoolean();
    }

    /** Whether new predictions are refused (the grace period is over). */
    public boolean refusing() {
        return refusing.getAsBoolean();
    }

    /** Prediction requests of the last minute, per classifier, for {@code /status}. */
    RecentRequests recent() {
        return recent;
    }
}
