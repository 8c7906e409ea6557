package dev.mlserver.gateway.config;

import java.nio.file.Path;
import java.util.Objects;

/** The gateway's whole configuration: one immutable tree, built once at start. */
public record GatewayConfig(Server server, Api api, String repository, Plugins plugins, Limits limits, Onnx onnx,
                            SecurityConfig security) {
    public GatewayConfig {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(plugins, "plugins");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(onnx, "onnx");
        Objects.requireNonNull(security, "security");
    }

    public record Server(String host, int port, int maxBodyBytes, int eventLoops) {
        public static final String DEFAULT_HOST = "0.0.0.0";
        public static final int DEFAULT_PORT = 8000;
        public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;

        public Server {
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

    public record Api(String version, boolean includeVersionInUrl) {
        public static final String DEFAULT_VERSION = "v1";

        public Api {
            if (version == null || !version.matches("[a-z0-9][a-z0-9.-]{0,15}")) {
                throw new ConfigException("api.version must be a short lowercase word such as v1, got " + version);
            }
        }
    }

    /**
     * @param dir the directory of plugin jars
     * @param workDir where private copies of loaded jars are kept; null for a temporary directory
     * @param integrity what to do with a jar whose SHA-256 is not in the lock file
     * @param lockFile the allowlist of jar digests; null for {@code <dir>/plugins.lock}
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
            return lockFile != null ? lockFile : dir.resolve(DEFAULT_LOCK_FILE);
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

    public record Onnx(int intraOpThreads) {
        public static final int DEFAULT_INTRA_OP_THREADS = 1;

        public Onnx {
            if (intraOpThreads < 1) {
                throw new ConfigException("onnx.intra_op_threads must be at least 1");
            }
        }
    }

    public GatewayConfig withPort(int port) {
        return new GatewayConfig(new Server(server.host(), port, server.maxBodyBytes(), server.eventLoops()),
                api, repository, plugins, limits, onnx, security);
    }

    public GatewayConfig withPluginsDir(Path dir) {
        return new GatewayConfig(server, api, repository,
                new Plugins(dir, plugins.workDir(), plugins.integrity(), plugins.lockFile()), limits, onnx, security);
    }
}
