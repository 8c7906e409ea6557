package dev.mlserver.gateway.metrics;

import dev.mlserver.gateway.bulkhead.Bulkhead;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.plugin.ClassifierRegistry;
import dev.mlserver.gateway.plugin.PluginIntegrity;
import dev.mlserver.gateway.plugin.LoadedClassifier;
import dev.mlserver.gateway.plugin.PluginLoader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The gateway's Prometheus metrics. Label values come only from loaded classifiers, never from
 * request paths, so unknown routes cannot create series; a retired version's series are removed.
 */
public final class GatewayMetrics implements ClassifierRegistry.Listener, PluginLoader.BulkheadListeners,
        PluginIntegrity.Listener {
    /** Latency buckets from a quarter millisecond to ten seconds. */
    static final Duration[] BUCKETS = {
        Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)
    };

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> requestCounters = new ConcurrentHashMap<>();
    private final Map<String, Timer> latencyTimers = new ConcurrentHashMap<>();
    private final Counter loadsOk;
    private final Counter loadsFailed;

    public GatewayMetrics() {
        loadsOk = Counter.builder("mlserver_plugin_loads").description("Plugin jars loaded")
                .tag("result", "success").register(registry);
        loadsFailed = Counter.builder("mlserver_plugin_loads").description("Plugin jars loaded")
                .tag("result", "failure").register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    /** Records one finished request to a classifier route. */
    public void request(LoadedClassifier classifier, String route, int status, long nanos) {
        ClassifierInfo info = classifier.info();
        String base = info.name() + '\0' + info.version() + '\0' + route;
        requestCounters.computeIfAbsent(base + '\0' + status, k -> Counter.builder("mlserver_requests")
                .description("Requests to classifier routes")
                .tags(Tags.of("classifier", info.name(), "version", info.version(), "route", route, "status", Integer.toString(status)))
                .register(registry)).increment();
        latencyTimers.computeIfAbsent(base, k -> Timer.builder("mlserver_request_duration")
                .description("Time from request to response of classifier routes")
                .tags(Tags.of("classifier", info.name(), "version", info.version(), "route", route))
                .serviceLevelObjectives(BUCKETS)
                .minimumExpectedValue(BUCKETS[0])
                .maximumExpectedValue(BUCKETS[BUCKETS.length - 1])
                .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public Bulkhead.Listener forClassifier(String name, String version) {
        Timer queueWait = Timer.builder("mlserver_queue_wait")
                .description("Time a prediction waited for a slot in its classifier's bulkhead")
                .tags("classifier", name, "version", version)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
        Function<String, Counter> rejections = reason -> Counter.builder("mlserver_rejections")
                .description("Predictions refused by a classifier's bulkhead")
                .tags("classifier", name, "version", version, "reason", reason)
                .register(registry);
        Counter queueFull = rejections.apply("queue_full");
        Counter queueTimeout = rejections.apply("queue_timeout");
        return new Bulkhead.Listener() {
            @Override
            public void queueWait(long nanos) {
                queueWait.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void rejected(String reason) {
                ("queue_full".equals(reason) ? queueFull : queueTimeout).increment();
            }
        };
    }

    private void gauges(LoadedClassifier classifier) {
        ClassifierInfo info = classifier.info();
        Bulkhead bulkhead = classifier.bulkhead();
        // a reloaded jar may carry the same version: its gauges must read the new bulkhead
        registry.getMeters().stream()
                .filter(m -> m instanceof Gauge && info.name().equals(m.getId().getTag("classifier"))
                        && info.version().equals(m.getId().getTag("version")))
                .toList().forEach(registry::remove);
        Gauge.builder("mlserver_in_flight", bulkhead, Bulkhead::running)
                .description("Predictions running now")
                .tags("classifier", info.name(), "version", info.version()).register(registry);
        Gauge.builder("mlserver_queued", bulkhead, Bulkhead::queued)
                .description("Predictions waiting for a slot now")
                .tags("classifier", info.name(), "version", info.version()).register(registry);
        Gauge.builder("mlserver_max_concurrent_predictions", () -> info.limits().maxConcurrentPredictions())
                .description("The bulkhead's limit of concurrent predictions")
                .tags("classifier", info.name(), "version", info.version()).register(registry);
    }

    @Override
    public void serving(LoadedClassifier classifier) {
        ClassifierInfo info = classifier.info();
        loadsOk.increment();
        gauges(classifier);
        Gauge.builder("mlserver_classifier_version_info", () -> 1)
                .description("One series per classifier version being served")
                .tags("repository", info.repository(), "classifier", info.name(), "version", info.version(),
                        "git_tag", info.gitTag() == null ? "" : info.gitTag())
                .register(registry);
    }

    @Override
    public void retired(ClassifierInfo info) {
        List<Meter> meters = registry.getMeters().stream()
                .filter(m -> info.name().equals(m.getId().getTag("classifier")) && info.version().equals(m.getId().getTag("version")))
                .toList();
        meters.forEach(registry::remove);
        String prefix = info.name() + '\0' + info.version() + '\0';
        requestCounters.keySet().removeIf(k -> k.startsWith(prefix));
        latencyTimers.keySet().removeIf(k -> k.startsWith(prefix));
    }

    @Override
    public void failed(String jar, String reason) {
        loadsFailed.increment();
    }

    @Override
    public void integrityFailure(String jar, String problem, boolean refused) {
        Counter.builder("mlserver_plugin_integrity_failures")
                .description("Plugin jars whose SHA-256 did not match the lock file")
                .tags("jar", jar, "problem", problem, "action", refused ? "refused" : "warned")
                .register(registry).increment();
    }
}
