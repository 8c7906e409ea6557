package dev.mlserver.gateway.cli;

import ai.onnxruntime.OrtEnvironment;
import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.http.Routes;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.plugin.OpenedPlugin;
import dev.mlserver.gateway.plugin.PluginLoadException;
import dev.mlserver.gateway.plugin.PluginLoader;
import dev.mlserver.gateway.registry.CpuBudget;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "doctor",
        mixinStandardHelpOptions = true,
        description = "Check this machine and set-up: Java, the ONNX Runtime native library, the config, the plugins "
                + "directory, each plugin jar (opened and warmed up as `serve` would), the port, and a running "
                + "gateway. Prints what to fix.",
        footer = {"", "Examples:",
            "  ml_server doctor",
            "  ml_server doctor --config prod.yaml --plugins-dir /opt/plugins",
            "  ml_server doctor --url http://127.0.0.1:8000 --json",
            "", "Exit codes: 0 nothing to fix (warnings allowed), 1 something to fix, 2 usage."})
final class DoctorCommand implements Callable<Integer> {
    static final int MIN_JAVA = 17;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "gateway config (default: the embedded config/gateway.yaml)")
    Path config;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "directory of classifier plugin jars")
    Path pluginsDir;

    @Option(names = "--port", paramLabel = "N", description = "the port serve would listen on")
    Integer port;

    @Option(names = "--url", paramLabel = "URL",
            description = "also check the gateway running there (default: the configured port, when something listens on it)")
    String url;

    @Option(names = "--json", description = "print the checks as JSON")
    boolean json;

    enum Result { OK, WARN, FAIL }

    /** One finding: what was checked, how it went, and what to do about it. */
    record Check(String name, Result result, String detail, String fix) {}

    private final List<Check> checks = new ArrayList<>();

    @Override
    public Integer call() {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        Level level = root.getLevel();
        root.setLevel(Level.OFF);
        try {
            java();
            boolean ortLoaded = onnxRuntime();
            Optional<GatewayConfig> loaded = config();
            if (loaded.isPresent()) {
                GatewayConfig cfg = loaded.get();
                List<Path> jars = pluginsDir(cfg.plugins().dir());
                if (!jars.isEmpty() && ortLoaded) {
                    plugins(cfg, jars);
                }
                port(cfg);
            }
        } finally {
            root.setLevel(level);
        }
        print();
        return checks.stream().anyMatch(c -> c.result() == Result.FAIL) ? 1 : 0;
    }

    private void java() {
        int feature = Runtime.version().feature();
        String detail = "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ") on "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch");
        if (feature < MIN_JAVA) {
            add("java", Result.FAIL, detail, "install Java " + MIN_JAVA + " or newer and put it first on PATH (or set JAVA_HOME)");
        } else {
            add("java", Result.OK, detail, null);
        }
    }

    private boolean onnxRuntime() {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            add("onnxruntime", Result.OK, "ONNX Runtime " + env.getVersion() + " native library loaded; providers "
                    + OrtEnvironment.getAvailableProviders(), null);
            return true;
        } catch (Throwable e) {
            add("onnxruntime", Result.FAIL, "the ONNX Runtime native library does not load: " + e,
                    "run on a platform ONNX Runtime ships natives for (linux x64/aarch64, macOS, windows x64) with glibc; "
                            + "make sure java.io.tmpdir (" + System.getProperty("java.io.tmpdir")
                            + ") is writable and not mounted noexec, or set -Donnxruntime.native.path to an unpacked copy");
            return false;
        }
    }

    private Optional<GatewayConfig> config() {
        String where = config == null ? "embedded config/gateway.yaml" : config.toString();
        try {
            GatewayConfig cfg = ConfigLoader.create(System.getenv()).load(Optional.ofNullable(config));
            if (port != null) {
                cfg = cfg.withPort(port);
            }
            if (pluginsDir != null) {
                cfg = cfg.withPluginsDir(pluginsDir);
            }
            add("config", Result.OK, where + " (with environment overrides) is valid", null);
            return Optional.of(cfg);
        } catch (ConfigException e) {
            add("config", Result.FAIL, e.getMessage(),
                    "fix the key named above; config/gateway.yaml lists every key with its default");
            return Optional.empty();
        }
    }

    private List<Path> pluginsDir(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            add("plugins dir", Result.FAIL, abs + " does not exist",
                    "create it, or point plugins.dir / MLSERVER_PLUGINS_DIR / --plugins-dir at your plugin jars "
                            + "(the example family: `mvn -DskipTests package` writes plugins/target/plugins)");
            return List.of();
        }
        List<Path> jars;
        try (Stream<Path> files = Files.list(abs)) {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(Path::toString)).toList();
        } catch (IOException e) {
            add("plugins dir", Result.FAIL, "cannot list " + abs + ": " + e.getMessage(), "make the directory readable");
            return List.of();
        }
        if (jars.isEmpty()) {
            add("plugins dir", Result.WARN, abs + " holds no *.jar: the gateway would serve nothing",
                    "copy classifier plugin jars into it");
        } else {
            add("plugins dir", Result.OK, abs + " holds " + jars.size() + " jar(s)", null);
        }
        return jars;
    }

    /** Loads each jar as serve would: private copy, manifest, open, warm-up; then closes it. */
    private void plugins(GatewayConfig cfg, List<Path> jars) {
        Path work;
        try {
            work = Files.createTempDirectory("mlserver-doctor-");
        } catch (IOException e) {
            add("plugin", Result.FAIL, "cannot create a temporary directory: " + e.getMessage(), "make java.io.tmpdir writable");
            return;
        }
        Map<String, String> owners = new HashMap<>();
        List<ClassifierInfo> served = new ArrayList<>();
        try {
            PluginLoader loader = PluginLoader.standalone(cfg, work, GatewayVersion.current(), Routes.reservedNames(cfg));
            for (Path jar : jars) {
                String file = jar.getFileName().toString();
                long start = System.nanoTime();
                try {
                    ClassifierInfo info;
                    long ms;
                    try (OpenedPlugin opened = loader.load(jar)) {
                        ms = (System.nanoTime() - start) / 1_000_000;
                        info = opened.info();
                    }
                    String owner = owners.putIfAbsent(info.name(), file);
                    if (owner != null) {
                        add("plugin " + file, Result.FAIL, "classifier '" + info.name() + "' is also in " + owner
                                + "; the gateway serves the first and refuses this one",
                                "keep one jar per classifier in the plugins directory");
                    } else {
                        served.add(info);
                        add("plugin " + file, Result.OK, info.name() + " " + info.version() + " (commit "
                                + Objects.requireNonNullElse(info.gitCommit(), "unknown") + ", tag "
                                + Objects.requireNonNullElse(info.gitTag(), "none") + ") opens and warms up in " + ms + " ms", null);
                    }
                } catch (PluginLoadException e) {
                    add("plugin " + file, Result.FAIL, e.getMessage(),
                            "rebuild or remove this jar; `serve` would mark it failed with this reason and go on without it");
                }
            }
            cpuBudget(cfg.onnx(), served);
        } finally {
            deleteQuietly(work);
        }
    }

    /** The CPU budget of the classifiers that would serve, as serve checks it. */
    private void cpuBudget(GatewayConfig.Onnx onnx, List<ClassifierInfo> served) {
        int predictions = served.stream().mapToInt(c -> c.limits().maxConcurrentPredictions()).sum();
        Optional<String> advice = CpuBudget.advice(onnx, served);
        if (advice.isPresent()) {
            add("cpu budget", onnx.cpuBudget() == GatewayConfig.CpuBudgetMode.REFUSE ? Result.FAIL : Result.WARN,
                    advice.get(), "set onnx.intra_op_threads as advised in the gateway config");
        } else {
            add("cpu budget", Result.OK, predictions + " prediction(s) may run at once on " + onnx.cores()
                    + " core(s), each on " + onnx.intraOpThreads() + " ONNX thread(s)"
                    + (onnx.cpuBudget() == GatewayConfig.CpuBudgetMode.OFF ? " (onnx.cpu_budget: off)" : ""), null);
        }
    }

    private void port(GatewayConfig cfg) {
        String host = cfg.server().host();
        int p = cfg.server().port();
        if (p == 0) {
            add("port", Result.OK, "port 0: serve picks a free port and logs it", null);
            if (url != null) {
                gateway(url);
            }
            return;
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, p));
            add("port", Result.OK, host + ":" + p + " is free", null);
            if (url != null) {
                gateway(url);
            }
        } catch (IOException e) {
            String target = url != null ? url : "http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + p;
            boolean mlserver = gateway(target);
            if (mlserver && url == null) {
                add("port", Result.WARN, host + ":" + p + " is taken by the mlserver gateway checked above",
                        "to start another one, pick a free port with --port / MLSERVER_PORT / server.port");
            } else if (!mlserver || url != null) {
                add("port", Result.FAIL, host + ":" + p + " cannot be bound: " + e.getMessage(),
                        "stop the process on port " + p + " (e.g. `ss -ltnp | grep :" + p + "`), or pick another with "
                                + "--port / MLSERVER_PORT / server.port");
            }
        }
    }

    /** Checks a running gateway; true when an mlserver gateway answered there. */
    private boolean gateway(String target) {
        GatewayClient client;
        try {
            client = new GatewayClient(target, System.getenv("MLSERVER_TOKEN"), Duration.ofSeconds(5));
        } catch (IllegalArgumentException e) {
            add("gateway", Result.FAIL, e.getMessage(), "pass --url http://host:port");
            return false;
        }
        try {
            GatewayClient.Reply status = client.get("/status");
            JsonNode body = status.json().orElse(null);
            if (status.status() == 401 || status.status() == 403) {
                add("gateway", Result.WARN, target + " wants a token for /status", "set MLSERVER_TOKEN to check it");
                return true;
            }
            if (!status.ok() || body == null || !body.has("classifiers")) {
                add("gateway", url != null ? Result.FAIL : Result.WARN, target + " is not an mlserver gateway (/status answered "
                        + status.status() + ")", "point --url at the gateway");
                return false;
            }
            GatewayClient.Reply ready = client.get("/health/ready");
            List<String> failed = new ArrayList<>();
            for (JsonNode p : body.path("plugins")) {
                if (p.path("state").asText().equals("failed")) {
                    failed.add(p.path("jar").asText() + ": " + p.path("reason").asText());
                }
            }
            String detail = target + ": mlserver " + body.path("gateway").path("version").asText() + ", "
                    + (ready.status() == 200 ? "ready" : "not ready (" + ready.json().map(j -> j.path("status").asText()).orElse("?") + ")")
                    + ", " + body.path("classifiers").size() + " classifier(s) serving";
            if (!failed.isEmpty()) {
                add("gateway", Result.FAIL, detail + "; failed plugins: " + String.join("; ", failed),
                        "fix or remove the failed jars; `ml_server status` shows the same");
            } else if (ready.status() != 200) {
                add("gateway", Result.WARN, detail, "wait for the plugins to load, or check `ml_server status`");
            } else {
                add("gateway", Result.OK, detail, null);
            }
            return true;
        } catch (GatewayClient.Unreachable e) {
            add("gateway", url != null ? Result.FAIL : Result.WARN, e.getMessage(),
                    url != null ? "start it with `ml_server serve`, or fix --url" : "the port is taken by something that does not answer HTTP");
            return false;
        }
    }

    private void add(String name, Result result, String detail, String fix) {
        checks.add(new Check(name, result, detail, fix));
    }

    private void print() {
        PrintWriter out = spec.commandLine().getOut();
        long fails = checks.stream().filter(c -> c.result() == Result.FAIL).count();
        long warns = checks.stream().filter(c -> c.result() == Result.WARN).count();
        if (json) {
            ObjectNode root = GatewayClient.JSON.createObjectNode();
            root.put("ok", fails == 0);
            ArrayNode list = root.putArray("checks");
            for (Check c : checks) {
                ObjectNode n = list.addObject();
                n.put("check", c.name());
                n.put("result", c.result().name().toLowerCase(Locale.ROOT));
                n.put("detail", c.detail());
                n.put("fix", c.fix());
            }
            out.println(root.toPrettyString());
        } else {
            int width = checks.stream().mapToInt(c -> c.name().length()).max().orElse(0);
            for (Check c : checks) {
                out.printf("%-4s  %-" + width + "s  %s%n", c.result().name().toLowerCase(Locale.ROOT), c.name(), c.detail());
                if (c.fix() != null) {
                    out.printf("      %-" + width + "s  fix: %s%n", "", c.fix());
                }
            }
            out.printf("%n%d check(s): %d to fix, %d warning(s)%n", checks.size(), fails, warns);
        }
        out.flush();
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; the OS cleans it up
        }
    }
}
