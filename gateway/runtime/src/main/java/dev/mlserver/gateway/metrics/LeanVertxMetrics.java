package dev.mlserver.gateway.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.micrometer.MicrometerMetricsFactory;

/**
 * Vert.x metrics from vertx-micrometer-metrics (JVM, pools, connections, bytes, clients), except
 * the per-request HTTP server meters, which {@link HttpServerRequestMetrics} records into the same
 * series without vertx-micrometer-metrics' per-request tag lookups and gauge registration (at 50,000
 * requests a second those were an eighth of the gateway's CPU samples).
 */
final class LeanVertxMetrics implements VertxMetrics {
    private final VertxMetrics micrometer;
    private final HttpServerRequestMetrics.Meters requestMeters;
    private final HttpServerRequestMetrics.Meters warmupMeters;

    private LeanVertxMetrics(VertxMetrics micrometer, MeterRegistry registry, MeterRegistry warmupRegistry) {
        this.micrometer = micrometer;
        this.requestMeters = new HttpServerRequestMetrics.Meters(registry);
        this.warmupMeters = new HttpServerRequestMetrics.Meters(warmupRegistry);
    }

    /**
     * A metrics factory for {@code Vertx.builder().withMetrics(...)}, reporting into {@code registry},
     * and the gateway's own warm-up requests into {@code warmupRegistry}.
     */
    static VertxMetricsFactory factory(MeterRegistry registry, MeterRegistry warmupRegistry) {
        MicrometerMetricsFactory micrometer = new MicrometerMetricsFactory(registry);
        return new VertxMetricsFactory() {
            @Override
            public VertxMetrics metrics(VertxOptions options) {
                return new LeanVertxMetrics(micrometer.metrics(options), registry, warmupRegistry);
            }

            @Override
            public MetricsOptions newOptions() {
                return micrometer.newOptions();
            }

            @Override
            public MetricsOptions newOptions(MetricsOptions options) {
                return micrometer.newOptions(options);
            }

            @Override
            public MetricsOptions newOptions(JsonObject json) {
                return micrometer.newOptions(json);
            }
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions options, SocketAddress localAddress) {
        HttpServerMetrics<?, ?, ?> tcp = micrometer.createHttpServerMetrics(options, localAddress);
        return tcp == null ? null : new HttpServerRequestMetrics((HttpServerMetrics<Object, Object, Object>) tcp, requestMeters, warmupMeters);
    }

    @Override
    public EventBusMetrics<?> createEventBusMetrics() {
        return micrometer.createEventBusMetrics();
    }

    @Override
    public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remoteAddress, String type, String namespace) {
        return micrometer.createClientMetrics(remoteAddress, type, namespace);
    }

    @Override
    public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(HttpClientOptions options) {
        return micrometer.createHttpClientMetrics(options);
    }

    @Override
    public TCPMetrics<?> createNetServerMetrics(NetServerOptions options, SocketAddress localAddress) {
        return micrometer.createNetServerMetrics(options, localAddress);
    }

    @Override
    public TCPMetrics<?> createNetClientMetrics(NetClientOptions options) {
        return micrometer.createNetClientMetrics(options);
    }

    @Override
    public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions options) {
        return micrometer.createDatagramSocketMetrics(options);
    }

    @Override
    public PoolMetrics<?, ?> createPoolMetrics(String poolType, String poolName, int maxPoolSize) {
        return micrometer.createPoolMetrics(poolType, poolName, maxPoolSize);
    }

    @Override
    public void vertxCreated(Vertx vertx) {
        micrometer.vertxCreated(vertx);
    }

    @Override
    public boolean isMetricsEnabled() {
        return micrometer.isMetricsEnabled();
    }

    @Override
    public void close() {
        micrometer.close();
    }
}
