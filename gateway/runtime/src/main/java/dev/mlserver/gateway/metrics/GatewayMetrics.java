package dev.mlserver.gateway.metrics;

import dev.mlserver.gateway.bulkhead.Bulkhead;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.plugin.PluginIntegrity;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Info;
import io.vertx.core.buffer.Buffer;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The gateway's Prometheus metrics. Label values come only from loaded classifiers and fixed
 * sets, never from request paths or methods, so unknown routes cannot create series; a retired
 * version's series are removed.
 */
public final class GatewayMetrics implements ClassifierRegistry.Listener, PluginIntegrity.Listener {
    /** Latency buckets from a quarter millisecond to ten seconds. */
    static final Duration[] BUCKETS = {
        Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)
    };

    /** HTTP methods shown as themselves in Vert.x server metrics; any other becomes {@code other}. */
    static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

    /**
     * Three of Micrometer's JVM and process meters have names {@code promtool check metrics}
     * rejects (milli- and nanosecond units, a {@code _count} gauge): the two times are replaced by
     * counters in seconds ({@link #secondsCounters}), the core count is renamed.
     */
    static final MeterFilter PROMTOOL_NAMES = new MeterFilter() {
        @Override
        public MeterFilterReply accept(Meter.Id id) {
            return id.getName().equals("jvm.compilation.time") || id.getName().equals("process.cpu.time")
                    ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
        }

        @Override
        public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
        }
    };

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** By loaded version (identity: a rebuild of one version is a new key with the same meters). */
    private final Map<LoadedClassifier, RouteMeters> routeMeters = new ConcurrentHashMap<>();
    /**
     * The warm-up's predictions go through the same meters' code as a client's, so that the JIT
     * compiles it before readiness, but into a registry nobody scrapes.
     */
    private final PrometheusMeterRegistry warmupRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<LoadedClassifier, RouteMeters> warmupRouteMeters = new ConcurrentHashMap<>();
    private final Map<String, Counter> cacheCounters = new ConcurrentHashMap<>();
    private final Map<String, Counter> warmupCounters = new ConcurrentHashMap<>();
    private final Info versionInfo;
    private final SharedScrape<Buffer> shared = new SharedScrape<>(() -> Buffer.buffer(registry.scrape()));
    private final Counter loadsOk;
    private final Counter loadsFailed;

    public GatewayMetrics() {
        // a client may send any token as a method; Vert.x would make each one a series
        registry.config().meterFilter(MeterFilter.replaceTagValues("method", m -> METHODS.contains(m) ? m : "other"));
        registry.config().meterFilter(PROMTOOL_NAMES);
        secondsCounters();
        loadsOk = Counter.builder("mlserver_plugin_loads").description("Plugin jars loaded")
                .tag("result", "success").register(registry);
        loadsFailed = Counter.builder("mlserver_plugin_loads").description("Plugin jars loaded")
                .tag("result", "failure").register(registry);
        // Micrometer's Prometheus naming strips an _info suffix, so the info metric goes straight
        // to the Prometheus client registry behind it, which the registry's scrape also reads
        versionInfo = Info.builder().name("mlserver_classifier_version_info")
                .help("One series per classifier version being served, always 1")
                .labelNames("repository", "classifier", "version", "git_tag")
                .register(registry.getPrometheusRegistry());
    }

    /**
     * Vert.x metrics options for a Vert.x that reports into this registry: HTTP server, pool and
     * JVM metrics. Each gateway gets its own registry name: Vert.x keeps backends by that name,
     * and two gateways in one JVM (tests) must not share one.
     */
    public MicrometerMetricsOptions vertxOptions() {
        return new MicrometerMetricsOptions()
                .setEnabled(true)
                .setJvmMetricsEnabled(true)
                .setRegistryName("mlserver-" + INSTANCES.incrementAndGet());
    }

    /**
     * The Vert.x metrics factory for a Vert.x built with {@link #vertxOptions}: vertx-micrometer-metrics,
     * with HTTP server requests recorded by the cheaper {@link HttpServerRequestMetrics}.
     */
    public io.vertx.core.spi.VertxMetricsFactory vertxMetricsFactory() {
        return LeanVertxMetrics.factory(registry, warmupRegistry);
    }

    private void secondsCounters() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
                    .baseUnit("seconds").description("CPU time used by the gateway process").register(registry);
        }
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit != null && jit.isCompilationTimeMonitoringSupported()) {
            FunctionCounter.builder("jvm.compilation", jit, j -> j.getTotalCompilationTime() / 1e3)
                    .baseUnit("seconds").description("Time the JIT compiler has spent compiling").register(registry);
        }
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition as {@code /metrics} serves it: off the event loops, one rendering shared by the requests waiting for it. */
    public SharedScrape<Buffer> sharedScrape() {
        return shared;
    }

    /** The protocols a request may come by: the {@code protocol} label. */
    public static final String NATIVE = "native";
    public static final String V2_REST = "v2-rest";
    public static final String V2_GRPC = "v2-grpc";

    /** Records one finished request to a classifier route of the native API. */
    public void request(LoadedClassifier classifier, String route, int status, long nanos) {
        request(classifier, NATIVE, route, status, nanos);
    }

    /**
     * Records one finished request to a classifier route. For gRPC, {@code status} is the HTTP
     * status of the same outcome (200, 400, 404, 503, 504, ...).
     */
    public void request(LoadedClassifier classifier, String protocol, String route, int status, long nanos) {
        record(routeMeters, registry, classifier, protocol, route, status, nanos);
    }

    private static void record(Map<LoadedClassifier, RouteMeters> byClassifier, MeterRegistry registry,
                               LoadedClassifier classifier, String protocol, String route, int status, long nanos) {
        RouteMeters meters = byClassifier.get(classifier);
        if (meters == null) {
            meters = byClassifier.computeIfAbsent(classifier, c -> new RouteMeters(c.info(), registry));
        }
        meters.record(protocol, route, status, nanos);
    }

    /**
     * The request counters and latency timers of one classifier version, found by route and status
     * without building a key per request. Meters are registered on first use; registering again
     * (a race, or a new instance for the same version) gives the same meters back.
     */
    private static final class RouteMeters {
        /** protocol, route pairs, flattened */
        static final List<String> ROUTES = List.of(NATIVE, "predict", NATIVE, "predict_proba", NATIVE, "ready",
                NATIVE, "describe", V2_REST, "infer", V2_REST, "metadata", V2_REST, "ready",
                V2_GRPC, "infer", V2_GRPC, "metadata", V2_GRPC, "ready");
        static final int PAIRS = ROUTES.size() / 2;
        static final int STATUSES = 1000;

        final ClassifierInfo info;
        final MeterRegistry registry;
        final AtomicReferenceArray<Counter> counters = new AtomicReferenceArray<>(PAIRS * STATUSES);
        final AtomicReferenceArray<Timer> timers = new AtomicReferenceArray<>(PAIRS);

        RouteMeters(ClassifierInfo info, MeterRegistry registry) {
            this.info = info;
            this.registry = registry;
        }

        static int index(String protocol, String route) {
            for (int i = 0; i < PAIRS; i++) {
                if (ROUTES.get(2 * i + 1).equals(route) && ROUTES.get(2 * i).equals(protocol)) {
                    return i;
                }
            }
            return -1;
        }

        void record(String protocol, String route, int status, long nanos) {
            int r = index(protocol, route);
            if (r < 0 || status < 0 || status >= STATUSES) {
                counter(protocol, route, status).increment();
                timer(protocol, route).record(nanos, TimeUnit.NANOSECONDS);
                return;
            }
            Counter counter = counters.get(r * STATUSES + status);
            if (counter == null) {
                counter = counter(protocol, route, status);
                counters.set(r * STATUSES + status, counter);
            }
            counter.increment();
            Timer timer = timers.get(r);
            if (timer == null) {
                timer = timer(protocol, route);
                timers.set(r, timer);
            }
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }

        private Counter counter(String protocol, String route, int status) {
            return Counter.builder("mlserver_requests")
                    .description("Requests to classifier routes")
                    .tags(Tags.of("classifier", info.name(), "version", info.version(), "protocol", protocol, "route", route,
                            "status", Integer.toString(status)))
                    .register(registry);
        }

        private Timer timer(String protocol, String route) {
            return Timer.builder("mlserver_request_duration")
                    .description("Time from request to response of classifier routes")
                    .tags(Tags.of("classifier", info.name(), "version", info.version(), "protocol", protocol, "route", route))
                    .serviceLevelObjectives(BUCKETS)
                    .minimumExpectedValue(BUCKETS[0])
                    .maximumExpectedValue(BUCKETS[BUCKETS.length - 1])
                    .register(registry);
        }
    }

    /**
     * Counts one of the gateway's own warm-up predictions, which {@code mlserver_requests_total}
     * and the latency histograms leave out: its route meters are recorded by the same code as a
     * client's, into a registry that is never scraped.
     */
    public void warmupRequest(LoadedClassifier classifier, String route, int status, long nanos) {
        warmupRequest(classifier, NATIVE, route, status, nanos);
    }

    /** {@link #warmupRequest(LoadedClassifier, String, int, long)} on a route of {@code protocol}. */
    public void warmupRequest(LoadedClassifier classifier, String protocol, String route, int status, long nanos) {
        ClassifierInfo info = classifier.info();
        warmupCounters.computeIfAbsent(info.name() + '\0' + info.version() + '\0' + status,
                k -> Counter.builder("mlserver_warmup_requests")
                        .description("The gateway's own warm-up predictions before readiness, by status; "
                                + "not in mlserver_requests_total")
                        .tags("classifier", info.name(), "version", info.version(), "status", Integer.toString(status))
                        .register(registry)).increment();
        record(warmupRouteMeters, warmupRegistry, classifier, protocol, route, status, nanos);
    }

    /** Lets go of the warm-up's own meters once it has ended. */
    public void warmupEnded() {
        warmupRouteMeters.clear();
        warmupRegistry.clear();
    }

    /** Records prediction-cache lookups of one request: instances answered from the cache and not. */
    public void cacheLookups(ClassifierInfo info, int hits, int misses) {
        if (hits > 0) {
            cacheCounter(info, "hit").increment(hits);
        }
        if (misses > 0) {
            cacheCounter(info, "miss").increment(misses);
        }
    }

    private Counter cacheCounter(ClassifierInfo info, String result) {
        return cacheCounters.computeIfAbsent(info.name() + '\0' + info.version() + '\0' + result,
                k -> Counter.builder("mlserver_cache_lookups")
                        .description("Instances looked up in a classifier's prediction cache, by result")
                        .tags("classifier", info.name(), "version", info.version(), "result", result)
                        .register(registry));
    }

    @Override
    public Bulkhead.Listener bulkhead(String name, String version) {
        Timer queueWait = Timer.builder("mlserver_queue_wait")
                .description("Time a prediction waited for a slot in its classifier's bulkhead")
                .tags("classifier", name, "version", version)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
        Map<String, Counter> rejections = new ConcurrentHashMap<>();
        for (String reason : List.of(Bulkhead.QUEUE_FULL, Bulkhead.QUEUE_TIMEOUT, Bulkhead.SHUTTING_DOWN)) {
            rejections.put(reason, Counter.builder("mlserver_rejections")
                    .description("Predictions refused by a classifier's bulkhead, by reason")
                    .tags("classifier", name, "version", version, "reason", reason)
                    .register(registry));
        }
        Counter timeouts = Counter.builder("mlserver_prediction_timeouts")
                .description("Predictions that overran timeout_ms (answered 504)")
                .tags("classifier", name, "version", version)
                .register(registry);
        return new Bulkhead.Listener() {
            @Override
            public void queueWait(long nanos) {
                queueWait.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void rejected(String reason) {
                Counter counter = rejections.get(reason);
                if (counter != null) {
                    counter.increment();
                }
            }

            @Override
            public void timedOut() {
                timeouts.increment();
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
        versionInfo.addLabelValues(infoLabels(info));
    }

    @Override
    public void retired(ClassifierInfo info) {
        versionInfo.remove(infoLabels(info));
        List<Meter> meters = registry.getMeters().stream()
                .filter(m -> info.name().equals(m.getId().getTag("classifier")) && info.version().equals(m.getId().getTag("version")))
                .toList();
        meters.forEach(registry::remove);
        String prefix = info.name() + '\0' + info.version() + '\0';
        routeMeters.values().removeIf(m -> m.info.name().equals(info.name()) && m.info.version().equals(info.version()));
        cacheCounters.keySet().removeIf(k -> k.startsWith(prefix));
    }

    @Override
    public void closed(LoadedClassifier classifier) {
        routeMeters.remove(classifier);
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

    private static String[] infoLabels(ClassifierInfo info) {
        return new String[] {info.repository(), info.name(), info.version(), info.gitTag() == null ? "" : info.gitTag()};
    }
}
