package dev.mlserver.gateway.server;

import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar mlserver-runtime.jar [serve] [--config FILE] [--port N] [--grpc-port N] [--plugins-dir DIR]}:
 * the serving jar's entry point, what images run. The tools live in {@code ml_server.jar}.
 */
@Command(name = "mlserver-runtime",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Serve every classifier plugin jar in the plugins directory.")
public final class Main implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "serve", description = "optional, for the same arguments as `ml_server serve`")
    String verb;

    @Option(names = "--config", paramLabel = "FILE", description = "gateway config (default: the embedded config/gateway.yaml)")
    Path config;

    @Option(names = "--port", paramLabel = "N", description = "port to listen on; 0 picks a free one and logs it")
    Integer port;

    @Option(names = "--grpc-port", paramLabel = "N",
            description = "Open Inference Protocol gRPC port (default: grpc.port, 8001); 0 picks a free one and logs it")
    Integer grpcPort;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "directory of classifier plugin jars")
    Path pluginsDir;

    @Option(names = "--watch", negatable = true, description = "hot reload (default: plugins.watch in the config)")
    Boolean watch;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main())
                .setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? 2 : 1)
                .execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (verb != null && !verb.equals("serve")) {
            System.err.println("mlserver-runtime: unknown command '" + verb + "' (this jar only serves; the tools are in ml_server.jar)");
            return 2;
        }
        GatewayConfig gatewayConfig;
        try {
            gatewayConfig = ConfigLoader.create(System.getenv()).load(Optional.ofNullable(config));
        } catch (ConfigException e) {
            System.err.println("mlserver-runtime: " + e.getMessage());
            return 1;
        }
        return Serving.run(overrides(gatewayConfig, port, grpcPort, pluginsDir, watch),
                reloader(Optional.ofNullable(config), port, grpcPort, pluginsDir, watch), "mlserver-runtime", System.err);
    }

    /** Reads the config file and the environment again, with the same command-line overrides; for SIGHUP. */
    public static Supplier<GatewayConfig> reloader(Optional<Path> file, Integer port, Integer grpcPort, Path pluginsDir,
                                                   Boolean watch) {
        return () -> overrides(ConfigLoader.create(System.getenv()).load(file), port, grpcPort, pluginsDir, watch);
    }

    /** The command line's overrides of the configured ports (HTTP, gRPC), plugins directory and watch flag; null keeps the config's. */
    public static GatewayConfig overrides(GatewayConfig config, Integer port, Integer grpcPort, Path pluginsDir,
                                          Boolean watch) {
        GatewayConfig result = config;
        if (port != null) {
            result = result.withPort(port);
        }
        if (grpcPort != null) {
            result = result.withGrpc(new GatewayConfig.Grpc(result.grpc().enabled(), grpcPort));
        }
        if (pluginsDir != null) {
            result = result.withPluginsDir(pluginsDir);
        }
        if (watch != null) {
            result = result.withLifecycle(result.lifecycle().withWatch(watch));
        }
        return result;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"mlserver-runtime " + GatewayVersion.current()};
        }
    }
}
