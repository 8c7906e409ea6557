package dev.mlserver.gateway.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/** The gateway's whole configuration: one immutable tree, built once at start. */
public record GatewayConfig(Server server, Api api, String repository, Plugins plugins, Limits limits, Onnx onnx,
                            SecurityConfig security, Logging logging, Lifecycle lifecycle, Warmup warmup,
                            Classifiers classifiers, Grpc grpc) {
    public GatewayConfig {
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(classifiers, "classifiers");
        Objects.requireNonNull(grpc, "grpc");
        Objects.requireNonNull(logging, "logging");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(plugins, "plugins");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(onnx, "onnx");
        Objects.requireNonNull(security, "security");
        Objects.requireNonNull(lifecycle, "lifecycle");
    }

    /**
     * The {@code classifiers:} sections, by name, and the limits the environment sets for every
     * classifier. The limits a version runs with, lowest precedence first: the gateway's
     * {@code limits:}, the plugin's {@code mlserver.yaml}, the environment
     * ({@code MAX_CONCURRENT_PREDICTIONS}), then {@code classifiers.<name>}.
     *
     * @param environment limit keys set by environment variables
     */
    public record Classifiers(Map<String, ClassifierSettings> byName, ObjectNode environment) {
        public static final Classifiers NONE = new Classifiers(Map.of(), JsonNodeFactory.instance.objectNode());

        public Classifiers {
            byName = Map.copyOf(byName);
            environment = environment.deepCopy();
        }

        /** The section for {@code name}, or the defaults when there is none. */
        public ClassifierSettings settings(String name) {
            ClassifierSettings s = byName.get(name);
            return s != null ? s : ClassifierSettings.none(name);
        }

        /** The limits a version of {@code name} runs with, given what its plugin asks for. */
        public Limits limits(String name, Limits plugin) {
            return plugin.overriddenBy(environment, "environment").overriddenBy(settings(name).limits(), "classifiers." + name);
        }

        /** These sections with {@code settings} in place of the one of the same name. */
        public Classifiers with(ClassifierSettings settings) {
            Map<String, ClassifierSettings> next = new java.util.HashMap<>(byName);
            next.put(settings.name(), settings);
            return new Classifiers(next, environment);
        }
    }

    /**
     * @param nativeTransport Netty's native epoll transport where its library loads (Linux on
     *     x86_64 or aarch64), else NIO; false: NIO always
     * @param connections the limits that keep hostile or broken clients from exhausting the gateway
     */
    public record Server(String host, int port, int maxBodyBytes, int eventLoops, boolean nativeTransport,
                         Connections connections) {
        public static final String DEFAULT_HOST = "0.0.0.0";
        public static final int DEFAULT_PORT = 8000;
        public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;

        public Server(String host, int port, int maxBodyBytes, int eventLoops) {
            this(host, port, maxBodyBytes, eventLoops, true, Connections.DEFAULTS);
        }

        public Server {
            Objects.requireNonNull(connections, "server connections");
            if (port < 0 || port > 65535) {
                throw new ConfigException("server.port must be between 0 and 65535, got " + port);
            }
            if (maxBodyBytes < 1) {
                throw new ConfigException("server.max_body_bytes must be positive");
            }
            if (eventLoops < 0) {
                throw new ConfigException("server.event_loops must be 0 (one per core) or more");
            }
        }
    }

    /**
     * The Open Inference Protocol's gRPC service, on a port of its own.
     *
     * @param enabled false: no gRPC port
     * @param port 0 picks a free port and logs it
     */
    public record Grpc(boolean enabled, int port) {
        public static final int DEFAULT_PORT = 8001;
        public static final Grpc DEFAULTS = new Grpc(true, DEFAULT_PORT);

        public Grpc {
            if (port < 0 || port > 65535) {
                throw new ConfigException("grpc.port must be between 0 and 65535, got " + port);
            }
        }
    }

    /**
     * What one client, or many, may hold of the gateway (docs/operations.md, "Hostile clients").
     *
     * @param maxConnections open connections at once; 0: three quarters of the open-file limit, at
     *     most one per 64 KiB of heap. At the cap the longest-idle connection makes room, or the new
     *     one gets 503 and is closed
     * @param bodyMemoryBytes request bodies being received or waiting for their answer, summed over
     *     every connection; 0: a quarter of the heap. Past it a request gets 503 before its body is read
     * @param headerTimeoutMs from a request's first byte to the end of its headers; past it 408 and close
     * @param bodyTimeoutMs from the end of a request's headers to the end of its body; past it 408 and close
     * @param idleTimeoutMs a connection with no traffic either way for this long is closed
     */
    public record Connections(int maxConnections, long bodyMemoryBytes, long headerTimeoutMs, long bodyTimeoutMs,
                              long idleTimeoutMs) {
        public static final long DEFAULT_HEADER_TIMEOUT_MS = 10_000;
        public static final long DEFAULT_BODY_TIMEOUT_MS = 30_000;
        public static final long DEFAULT_IDLE_TIMEOUT_MS = 120_000;
        public static final Connections DEFAULTS = new Connections(0, 0, DEFAULT_HEADER_TIMEOUT_MS,
                DEFAULT_BODY_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS);

        public Connections {
            if (maxConnections < 0) {
                throw new ConfigException("server.max_connections must be 0 (derived from the open-file limit) or more");
            }
            if (bodyMemoryBytes < 0) {
                throw new ConfigException("server.body_memory_bytes must be 0 (a quarter of the heap) or more");
            }
            if (headerTimeoutMs < 1 || bodyTimeoutMs < 1) {
                throw new ConfigException("server.header_timeout_ms and server.body_timeout_ms must be positive");
            }
            if (idleTimeoutMs < 1000) {
                throw new ConfigException("server.idle_timeout_ms must be at least 1000");
            }
        }
    }

    public record Api(String version, boolean includeVersionInUrl) {
        public static final String DEFAULT_VERSION = "v1";

        public Api {
            if (version == null || !version.matches("[a-z0-9][a-z0-9.-]{0,15}")) {
                throw new ConfigException("api.version must be a short lowercase word such as v1, got " + version);
            }
            if (version.equals("v2")) {
                throw new ConfigException("api.version cannot be v2: /v2 is the Open Inference Protocol's; use v1, v3, ...");
            }
        }
    }

    /**
     * @param dir the directory of plugin jars
     * @param workDir where private copies of loaded jars are kept; null for a temporary directory
     * @param integrity what to do with a jar whose SHA-256 is not in the lock file
     * @param lockFile the allowlist of jar digests; null for {@code plugins.lock} beside {@code dir}
     *     (in its parent directory), out of reach of whoever can only write jars into {@code dir}
     */
    public record Plugins(Path dir, Path workDir, Integrity integrity, Path lockFile) {
        public static final String DEFAULT_DIR = "plugins/target/plugins";
        public static final String DEFAULT_LOCK_FILE = "plugins.lock";

        public Plugins {
            Objects.requireNonNull(dir, "plugins.dir");
            Objects.requireNonNull(integrity, "plugins.integrity");
        }

        /** The lock file in effect. */
        public Path lockFileOrDefault() {
            return lockFile != null ? lockFile : defaultLockFile(dir);
        }

        /** {@code plugins.lock} beside a plugins directory: in its parent, never inside it. */
        public static Path defaultLockFile(Path dir) {
            Path normalized = dir.normalize();
            if (normalized.getParent() != null) {
                return normalized.getParent().resolve(DEFAULT_LOCK_FILE);
            }
            if (!normalized.isAbsolute() && normalized.getNameCount() == 1
                    && !normalized.toString().isEmpty() && !normalized.toString().equals("..")) {
                return Path.of(DEFAULT_LOCK_FILE); // "plugins": its parent is the working directory
            }
            Path parent = dir.toAbsolutePath().normalize().getParent();
            return parent == null ? Path.of("/", DEFAULT_LOCK_FILE) : parent.resolve(DEFAULT_LOCK_FILE);
        }
    }

    /** Plugin jar integrity: off, log a warning for jars not in the lock file, or refuse them. */
    public enum Integrity {
        OFF, WARN, STRICT;

        public static Integrity parse(String value, String where) {
            if (value.equals("false")) {
                return OFF; // YAML 1.1 reads an unquoted `off` as the boolean false
            }
            try {
                return valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + " must be off, warn or strict, got '" + value + "'");
            }
        }

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * @param cpuBudget what to do when intra-op threads x concurrent predictions over all
     *     classifiers exceed the cores: warn, refuse the classifier that goes over, or nothing
     * @param cpuCores the cores to budget; 0 for the cores the JVM sees (container-aware)
     */
    public record Onnx(int intraOpThreads, CpuBudgetMode cpuBudget, int cpuCores) {
        public static final int DEFAULT_INTRA_OP_THREADS = 1;
        public static final CpuBudgetMode DEFAULT_CPU_BUDGET = CpuBudgetMode.WARN;

        public Onnx {
            if (intraOpThreads < 1) {
                throw new ConfigException("onnx.intra_op_threads must be at least 1");
            }
            Objects.requireNonNull(cpuBudget, "onnx.cpu_budget");
            if (cpuCores < 0) {
                throw new ConfigException("onnx.cpu_cores must be 0 (the cores the JVM sees) or more");
            }
        }

        public Onnx(int intraOpThreads) {
            this(intraOpThreads, DEFAULT_CPU_BUDGET, 0);
        }

        /** The cores the budget is checked against. */
        public int cores() {
            return cpuCores > 0 ? cpuCores : Runtime.getRuntime().availableProcessors();
        }
    }

    public enum CpuBudgetMode {
        OFF, WARN, REFUSE;

        public static CpuBudgetMode parse(String value) {
            if (value.trim().equals("false")) {
                return OFF; // YAML 1.1 reads an unquoted off as false
            }
            for (CpuBudgetMode m : values()) {
                if (m.name().equalsIgnoreCase(value.trim())) {
                    return m;
                }
            }
            throw new ConfigException("onnx.cpu_budget must be warn, refuse or off, got '" + value + "'");
        }
    }

    /**
     * @param format json: one JSON object per line; text: readable lines for development
     * @param accessLog one line per HTTP request
     * @param logPayloads add the request body (clipped) to access lines
     */
    /**
     * Logging.
     *
     * @param format json, text, or auto: text on a terminal, JSON otherwise
     * @param accessLog one line per HTTP request
     * @param logPayloads request bodies in access lines
     * @param accessLogProbes access lines for {@code /health/*} and the console's {@code /status} too
     */
    public record Logging(LogFormat format, boolean accessLog, boolean logPayloads, boolean accessLogProbes) {
        public static final Logging DEFAULTS = new Logging(LogFormat.AUTO, true, false, false);

        public Logging {
            Objects.requireNonNull(format, "logging.format");
        }
    }

    public enum LogFormat {
        AUTO, JSON, TEXT;

        /** JSON or TEXT: AUTO is text when the process runs on a terminal (a person reads it), JSON otherwise. */
        public LogFormat resolve() {
            if (this != AUTO) {
                return this;
            }
            return System.console() != null ? TEXT : JSON;
        }

        public static LogFormat parse(String value) {
            for (LogFormat f : values()) {
                if (f.name().equalsIgnoreCase(value.trim())) {
                    return f;
                }
            }
            throw new ConfigException("logging.format must be auto, json or text, got '" + value + "'");
        }
    }

    /**
     * Hot reload, the admin routes and graceful shutdown.
     *
     * @param watch poll {@code plugins.dir} and load new, replaced and removed jars while serving
     * @param watchIntervalMs how often the directory is polled
     * @param settleMs how long a jar's size and modification time must stay unchanged before it is loaded
     * @param adminEnabled whether {@code /admin/plugins} is served
     * @param gracePeriodMs after SIGTERM, how long readiness is 503 while requests are still served
     * @param drainTimeoutMs after the grace period, how long running requests get to finish
     */
    public record Lifecycle(boolean watch, long watchIntervalMs, long settleMs, boolean adminEnabled,
                            long gracePeriodMs, long drainTimeoutMs, long loadTimeoutMs) {
        public static final boolean DEFAULT_WATCH = true;
        public static final long DEFAULT_WATCH_INTERVAL_MS = 500;
        public static final long DEFAULT_SETTLE_MS = 1000;
        public static final boolean DEFAULT_ADMIN_ENABLED = false;
        public static final long DEFAULT_GRACE_PERIOD_MS = 0;
        public static final long DEFAULT_DRAIN_TIMEOUT_MS = 15_000;
        public static final long DEFAULT_LOAD_TIMEOUT_MS = 60_000;
        /**
         * How long a stop may overrun its grace period and drain timeout (closing the classifiers,
         * stopping Vert.x) before the process is halted.
         */
        public static final long SHUTDOWN_MARGIN_MS = 10_000;

        public static final Lifecycle DEFAULTS = new Lifecycle(DEFAULT_WATCH, DEFAULT_WATCH_INTERVAL_MS, DEFAULT_SETTLE_MS,
                DEFAULT_ADMIN_ENABLED, DEFAULT_GRACE_PERIOD_MS, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_LOAD_TIMEOUT_MS);

        public Lifecycle {
            if (watchIntervalMs < 10) {
                throw new ConfigException("plugins.watch_interval_ms must be at least 10");
            }
            if (settleMs < 0) {
                throw new ConfigException("plugins.settle_ms must be 0 or more");
            }
            if (gracePeriodMs < 0 || drainTimeoutMs < 0) {
                throw new ConfigException("shutdown.grace_period_ms and shutdown.drain_timeout_ms must be 0 or more");
            }
            if (loadTimeoutMs < 1) {
                throw new ConfigException("plugins.load_timeout_ms must be at least 1");
            }
        }

        /**
         * The longest a stop takes after SIGTERM: the grace period, the drain, and the margin after
         * which the process is halted. A supervisor's kill timeout (Kubernetes'
         * {@code terminationGracePeriodSeconds}) must be longer.
         */
        public long shutdownLimitMs() {
            return shutdownLimitMs(gracePeriodMs, drainTimeoutMs);
        }

        /** {@link #shutdownLimitMs()} for these two settings. */
        public static long shutdownLimitMs(long gracePeriodMs, long drainTimeoutMs) {
            return gracePeriodMs + drainTimeoutMs + SHUTDOWN_MARGIN_MS;
        }

        public Lifecycle withWatch(boolean watch) {
            return new Lifecycle(watch, watchIntervalMs, settleMs, adminEnabled, gracePeriodMs, drainTimeoutMs, loadTimeoutMs);
        }
    }

    public GatewayConfig withPort(int port) {
        return new GatewayConfig(new Server(server.host(), port, server.maxBodyBytes(), server.eventLoops(),
                        server.nativeTransport(), server.connections()),
                api, repository, plugins, limits, onnx, security, logging, lifecycle, warmup, classifiers, grpc);
    }

    public GatewayConfig withPluginsDir(Path dir) {
        return new GatewayConfig(server, api, repository,
                new Plugins(dir, plugins.workDir(), plugins.integrity(), plugins.lockFile()), limits, onnx, security, logging,
                lifecycle, warmup, classifiers, grpc);
    }

    public GatewayConfig withLifecycle(Lifecycle lifecycle) {
        return new GatewayConfig(server, api, repository, plugins, limits, onnx, security, logging, lifecycle, warmup, classifiers, grpc);
    }

    public GatewayConfig withClassifiers(Classifiers classifiers) {
        return new GatewayConfig(server, api, repository, plugins, limits, onnx, security, logging, lifecycle, warmup, classifiers, grpc);
    }

    public GatewayConfig withGrpc(Grpc grpc) {
        return new GatewayConfig(server, api, repository, plugins, limits, onnx, security, logging, lifecycle, warmup, classifiers, grpc);
    }

    public GatewayConfig withWarmup(Warmup warmup) {
        return new GatewayConfig(server, api, repository, plugins, limits, onnx, security, logging, lifecycle, warmup, classifiers, grpc);
    }

    /**
     * The {@code warmup:} section: before readiness turns 200, each classifier's real predict
     * route is driven over loopback until the serving path is compiled, or until the time runs out.
     *
     * @param requests predictions sent to each classifier at least; 0 turns the warm-up off
     * @param maxMs how long the whole warm-up may take
     * @param concurrency requests in flight at once per classifier (at most twice its
     *     max_concurrent_predictions, so that some wait in its queue, as under load)
     * @param untilJitQuiet whether, once each classifier has had {@code requests}, the warm-up goes
     *     on until the JIT compiler has gone quiet (otherwise it stops there)
     */
    public record Warmup(int requests, long maxMs, int concurrency, boolean untilJitQuiet) {
        public static final int DEFAULT_REQUESTS = 200;
        public static final long DEFAULT_MAX_MS = 60_000;
        public static final int DEFAULT_CONCURRENCY = 8;
        public static final Warmup DEFAULTS = new Warmup(DEFAULT_REQUESTS, DEFAULT_MAX_MS, DEFAULT_CONCURRENCY, true);
        public static final Warmup OFF = new Warmup(0, DEFAULT_MAX_MS, DEFAULT_CONCURRENCY, true);

        public Warmup {
            if (requests < 0) {
                throw new ConfigException("warmup.requests must be 0 or more, got " + requests);
            }
            if (maxMs < 0) {
                throw new ConfigException("warmup.max_ms must be 0 or more, got " + maxMs);
            }
            if (concurrency < 1 || concurrency > 256) {
                throw new ConfigException("warmup.concurrency must be between 1 and 256, got " + concurrency);
            }
        }

        /** Whether a warm-up runs at all. */
        public boolean enabled() {
            return requests > 0 && maxMs > 0;
        }
    }
}
