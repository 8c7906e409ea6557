package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.server.Main;
import dev.mlserver.gateway.server.Serving;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "serve",
        mixinStandardHelpOptions = true,
        description = {"Serve every classifier plugin jar in the plugins directory.",
            "Given a classifier's mlserver.yaml or module directory, serve that one classifier from its source "
                + "module instead (development mode: compiled classes, card and artifacts packed on the fly)."},
        footer = {"", "Examples:",
            "  ml_server serve                # config/gateway.yaml as embedded, port 8000",
            "  cd classifiers/sentiment && mvn -q compile",
            "  ml_server serve mlserver.yaml --watch",
            "  ml_server serve --port 0 --plugins-dir /opt/plugins",
            "  ml_server serve --port 8080 --grpc-port 9001   # Open Inference Protocol gRPC",
            "  ml_server serve --config prod.yaml"})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "gateway config (default: the embedded config/gateway.yaml)")
    Path config;

    @Option(names = "--port", paramLabel = "N", description = "port to listen on; 0 picks a free one and logs it")
    Integer port;

    @Option(names = "--grpc-port", paramLabel = "N",
            description = "Open Inference Protocol gRPC port (default: grpc.port, 8001); 0 picks a free one and logs it")
    Integer grpcPort;

    @Option(names = "--plugins-dir", paramLabel = "DIR", description = "directory of classifier plugin jars")
    Path pluginsDir;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SOURCE",
            description = "a classifier's mlserver.yaml or module directory: serve it alone, from source")
    Path source;

    @Option(names = "--watch", negatable = true,
            description = "hot reload: load new and replaced jars and unload removed ones while serving"
                    + " (default: plugins.watch in the config); with SOURCE: reload the classifier whenever"
                    + " its module is rebuilt (default: off)")
    Boolean watch;

    @Override
    public Integer call() throws Exception {
        GatewayConfig gatewayConfig = ConfigLoader.create(System.getenv()).load(Optional.ofNullable(config));
        if (source != null) {
            return DevServe.run(source, Main.overrides(gatewayConfig, port, grpcPort, pluginsDir, null),
                    Boolean.TRUE.equals(watch), System.err);
        }
        return Serving.run(Main.overrides(gatewayConfig, port, grpcPort, pluginsDir, watch),
                Main.reloader(Optional.ofNullable(config), port, grpcPort, pluginsDir, watch), "ml_server", System.err);
    }
}
