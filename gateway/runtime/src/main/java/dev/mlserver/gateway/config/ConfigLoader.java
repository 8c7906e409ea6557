package dev.mlserver.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the {@link GatewayConfig}: the YAML file (or the embedded default), then environment
 * variables over it. Command-line flags are applied by the caller after this.
 */
public final class ConfigLoader {
    private static final String ENVIRONMENT = "environment variable ";
    /** The embedded default, a copy of {@code config/gateway.yaml}. */
    public static final String EMBEDDED = "/config/gateway.yaml";
    /** Overrides {@code shutdown.grace_period_ms}: how a Kubernetes manifest sets it without a config file. */
    public static final String SHUTDOWN_GRACE_PERIOD_ENV = "MLSERVER_SHUTDOWN_GRACE_PERIOD_MS";
    /** Overrides {@code shutdown.drain_timeout_ms}. */
    public static final String SHUTDOWN_DRAIN_TIMEOUT_ENV = "MLSERVER_SHUTDOWN_DRAIN_TIMEOUT_MS";

    private final Map<String, String> env;

    private ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    public static ConfigLoader create(Map<String, String> env) {
        return new ConfigLoader(env);
    }

    /** Loads {@code file}, or the embedded default when it is empty. */
    public GatewayConfig load(Optional<Path> file) {
        if (file.isPresent()) {
            Path path = file.get();
            try {
                if (Files.size(path) > Yaml.MAX_CODE_POINTS) {
                    throw new ConfigException(path + ": larger than " + Yaml.MAX_CODE_POINTS + " bytes");
                }
                return fromYaml(Files.readString(path, StandardCharsets.UTF_8), path.toString());
            } catch (java.nio.file.NoSuchFileException e) {
                throw new ConfigException("cannot read config " + path + ": no such file", e);
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new ConfigException("cannot read config " + path + ": not UTF-8 text", e);
            } catch (IOException e) {
                throw new ConfigException("cannot read config " + path + ": " + e.getMessage(), e);
            }
        }
        try (InputStream in = ConfigLoader.class.getResourceAsStream(EMBEDDED)) {
            if (in == null) {
                throw new ConfigException("the embedded default config " + EMBEDDED + " is missing from the jar");
            }
            return fromYaml(new String(in.readAllBytes(), StandardCharsets.UTF_8), "embedded " + EMBEDDED);
        } catch (IOException e) {
            throw new ConfigException("cannot read the embedded config: " + e.getMessage(), e);
        }
    }

    /** Parses one YAML document into a config, then applies the environment. */
    public GatewayConfig fromYaml(String yaml, String where) {
        try {
            return build(Yaml.Node.of(Yaml.parse(yaml, where), ""));
        } catch (ConfigException e) {
            // an environment variable's error names the variable, not the file
            boolean named = e.getMessage().startsWith(where) || e.getMessage().startsWith(ENVIRONMENT);
            throw named ? e : new ConfigException(where + ": " + e.getMessage(), e);
        }
    }

    private GatewayConfig build(Yaml.Node root) {
        Yaml.Node server = root.child("server");
        GatewayConfig.Server serverConfig = new GatewayConfig.Server(
                env("MLSERVER_HOST").orElse(server.string("host", GatewayConfig.Server.DEFAULT_HOST)),
                envInt("MLSERVER_PORT", 0, 65535).orElse(server.integer("port", GatewayConfig.Server.DEFAULT_PORT)),
                server.integer("max_body_bytes", GatewayConfig.Server.DEFAULT_MAX_BODY_BYTES),
                server.integer("event_loops", 0),
                server.bool("native_transport", true),
                new GatewayConfig.Connections(
                        server.integer("max_connections", 0),
                        server.longValue("body_memory_bytes", 0),
                        server.longValue("header_timeout_ms", GatewayConfig.Connections.DEFAULT_HEADER_TIMEOUT_MS),
                        server.longValue("body_timeout_ms", GatewayConfig.Connections.DEFAULT_BODY_TIMEOUT_MS),
                        server.longValue("idle_timeout_ms", GatewayConfig.Connections.DEFAULT_IDLE_TIMEOUT_MS)));
        server.rejectUnknown();

        Yaml.Node api = root.child("api");
        GatewayConfig.Api apiConfig = new GatewayConfig.Api(
                api.string("version", GatewayConfig.Api.DEFAULT_VERSION),
                api.bool("include_version_in_url", false));
        api.rejectUnknown();

        String repository = root.string("repository", "mlserver");

        Yaml.Node plugins = root.child("plugins");
        String workDir = plugins.string("work_dir", "");
        String lockFile = plugins.string("lock_file", "");
        GatewayConfig.Plugins pluginsConfig = new GatewayConfig.Plugins(
                Path.of(env("MLSERVER_PLUGINS_DIR").orElse(plugins.string("dir", GatewayConfig.Plugins.DEFAULT_DIR))),
                workDir.isBlank() ? null : Path.of(workDir),
                GatewayConfig.Integrity.parse(env("MLSERVER_PLUGINS_INTEGRITY").orElse(plugins.string("integrity", "off")),
                        "plugins.integrity"),
                lockFile.isBlank() ? null : Path.of(lockFile));
        boolean watch = plugins.bool("watch", GatewayConfig.Lifecycle.DEFAULT_WATCH);
        long watchIntervalMs = plugins.longValue("watch_interval_ms", GatewayConfig.Lifecycle.DEFAULT_WATCH_INTERVAL_MS);
        long settleMs = plugins.longValue("settle_ms", GatewayConfig.Lifecycle.DEFAULT_SETTLE_MS);
        long loadTimeoutMs = plugins.longValue("load_timeout_ms", GatewayConfig.Lifecycle.DEFAULT_LOAD_TIMEOUT_MS);
        plugins.rejectUnknown();

        Yaml.Node limits = root.child("limits");
        Limits limitsConfig = new Limits(
                envInt("MAX_CONCURRENT_PREDICTIONS", 1, Integer.MAX_VALUE).orElse(
                        limits.integer("max_concurrent_predictions", Limits.DEFAULT_MAX_CONCURRENT_PREDICTIONS)),
                limits.integer("max_queue", Limits.DEFAULT_MAX_QUEUE),
                limits.longValue("queue_timeout_ms", Limits.DEFAULT_QUEUE_TIMEOUT_MS),
                limits.longValue("timeout_ms", Limits.DEFAULT_TIMEOUT_MS),
                limits.integer("max_batch", Limits.DEFAULT_MAX_BATCH));
        limits.rejectUnknown();

        Yaml.Node onnx = root.child("onnx");
        GatewayConfig.Onnx onnxConfig = new GatewayConfig.Onnx(
                onnx.integer("intra_op_threads", GatewayConfig.Onnx.DEFAULT_INTRA_OP_THREADS),
                GatewayConfig.CpuBudgetMode.parse(env("MLSERVER_CPU_BUDGET").orElse(
                        onnx.string("cpu_budget", GatewayConfig.Onnx.DEFAULT_CPU_BUDGET.name()))),
                onnx.integer("cpu_cores", 0));
        onnx.rejectUnknown();

        Yaml.Node logging = root.child("logging");
        GatewayConfig.Logging loggingConfig = new GatewayConfig.Logging(
                GatewayConfig.LogFormat.parse(env("MLSERVER_LOG_FORMAT").orElse(
                        logging.string("format", GatewayConfig.Logging.DEFAULTS.format().name()))),
                logging.bool("access_log", GatewayConfig.Logging.DEFAULTS.accessLog()),
                logging.bool("log_payloads", GatewayConfig.Logging.DEFAULTS.logPayloads()),
                logging.bool("access_log_probes", GatewayConfig.Logging.DEFAULTS.accessLogProbes()));
        logging.rejectUnknown();

        SecurityConfig securityConfig = SecurityConfig.parse(root.child("security"), env);

        Yaml.Node admin = root.child("admin");
        boolean adminEnabled = admin.bool("enabled", GatewayConfig.Lifecycle.DEFAULT_ADMIN_ENABLED);
        admin.rejectUnknown();
        Yaml.Node shutdown = root.child("shutdown");
        GatewayConfig.Lifecycle lifecycle = new GatewayConfig.Lifecycle(watch, watchIntervalMs, settleMs, adminEnabled,
                envInt(SHUTDOWN_GRACE_PERIOD_ENV, 0, Integer.MAX_VALUE).map(Integer::longValue).orElse(
                        shutdown.longValue("grace_period_ms", GatewayConfig.Lifecycle.DEFAULT_GRACE_PERIOD_MS)),
                envInt(SHUTDOWN_DRAIN_TIMEOUT_ENV, 0, Integer.MAX_VALUE).map(Integer::longValue).orElse(
                        shutdown.longValue("drain_timeout_ms", GatewayConfig.Lifecycle.DEFAULT_DRAIN_TIMEOUT_MS)),
                loadTimeoutMs);
        shutdown.rejectUnknown();

        Yaml.Node classifiers = root.child("classifiers");
        Map<String, ClassifierSettings> sections = new java.util.HashMap<>();
        for (String name : classifiers.keys()) {
            sections.put(name, ClassifierSettings.parse(name, classifiers.child(name)));
        }
        classifiers.rejectUnknown();
        com.fasterxml.jackson.databind.node.ObjectNode environment =
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        envInt("MAX_CONCURRENT_PREDICTIONS", 1, Integer.MAX_VALUE).ifPresent(n -> environment.put("max_concurrent_predictions", n));
        GatewayConfig.Classifiers classifiersConfig = new GatewayConfig.Classifiers(sections, environment);
        Limits.DEFAULTS.overriddenBy(environment, "environment");

        Yaml.Node warmup = root.child("warmup");
        GatewayConfig.Warmup warmupConfig = new GatewayConfig.Warmup(
                warmup.integer("requests", GatewayConfig.Warmup.DEFAULT_REQUESTS),
                warmup.longValue("max_ms", GatewayConfig.Warmup.DEFAULT_MAX_MS),
                warmup.integer("concurrency", GatewayConfig.Warmup.DEFAULT_CONCURRENCY),
                warmup.bool("until_jit_quiet", true));
        warmup.rejectUnknown();

        Yaml.Node grpc = root.child("grpc");
        GatewayConfig.Grpc grpcConfig = new GatewayConfig.Grpc(grpc.bool("enabled", GatewayConfig.Grpc.DEFAULTS.enabled()),
                envInt("MLSERVER_GRPC_PORT", 0, 65535).orElse(grpc.integer("port", GatewayConfig.Grpc.DEFAULT_PORT)));
        grpc.rejectUnknown();

        root.rejectUnknown();
        return new GatewayConfig(serverConfig, apiConfig, repository, pluginsConfig, limitsConfig, onnxConfig,
                securityConfig, loggingConfig, lifecycle, warmupConfig, classifiersConfig, grpcConfig);
    }

    private Optional<String> env(String name) {
        return Optional.ofNullable(env.get(name)).filter(v -> !v.isBlank());
    }

    /** A whole number from the environment, checked here so that an error names the variable, not the config file. */
    private Optional<Integer> envInt(String name, int min, int max) {
        return env(name).map(v -> {
            String range = max == Integer.MAX_VALUE ? "of at least " + min : "between " + min + " and " + max;
            int value;
            try {
                value = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new ConfigException(ENVIRONMENT + name + "=" + v + ": must be a whole number " + range);
            }
            if (value < min || value > max) {
                throw new ConfigException(ENVIRONMENT + name + "=" + v + ": must be a whole number " + range);
            }
            return value;
        });
    }

    /** Reads a YAML document from a jar or file into a tree, with the same safety limits. */
    public static JsonNode parseTree(String yaml, String where) {
        return Yaml.parse(yaml, where);
    }
}
