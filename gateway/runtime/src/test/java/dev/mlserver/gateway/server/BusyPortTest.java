package dev.mlserver.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A port that is taken: one line naming it and the ways out, not a stack trace. */
class BusyPortTest {
    @TempDir
    Path plugins;

    @Test
    void aBusyPortIsOneLineNamingThePort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            GatewayConfig config = ConfigLoader.create(Map.of()).fromYaml("server: {host: 127.0.0.1}\nplugins: {watch: false}\ngrpc: {port: 0}\n", "test")
                    .withPort(port).withPluginsDir(plugins);
            Gateway gateway = Gateway.create(config);
            Throwable failure = catchThrowable(() -> gateway.start().await());
            gateway.stop();
            String line = Serving.cannotListen("127.0.0.1", port, failure);
            assertThat(line).isEqualTo("cannot listen on 127.0.0.1:" + port + ": port " + port + " is already in use (see `ss -ltnp | grep :"
                    + port + "`); stop what listens there or pick another port with --port, MLSERVER_PORT or server.port");
        }
    }

    @Test
    void aBusyGrpcPortIsOneLineNamingItAndItsSettings() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            GatewayConfig config = ConfigLoader.create(Map.of()).fromYaml("server: {host: 127.0.0.1, port: 0}\n"
                            + "plugins: {watch: false}\ngrpc: {port: " + port + "}\n", "test")
                    .withPluginsDir(plugins);
            Gateway gateway = Gateway.create(config);
            Throwable failure = catchThrowable(() -> gateway.start().await());
            gateway.stop();
            assertThat(Serving.cannotListen("127.0.0.1", 0, failure)).isEqualTo("cannot listen on 127.0.0.1:" + port + ": port "
                    + port + " is already in use (see `ss -ltnp | grep :" + port + "`); stop what listens there or pick another"
                    + " port with --grpc-port, MLSERVER_GRPC_PORT or grpc.port");
        }
    }

    @Test
    void theStartUpLineSaysWhereTheConsoleDocsAndMetricsAre() {
        assertThat(Gateway.urls("0.0.0.0", 8000))
                .isEqualTo("console http://localhost:8000/  API docs http://localhost:8000/docs  metrics http://localhost:8000/metrics");
        assertThat(Gateway.urls("127.0.0.1", 8123)).startsWith("console http://127.0.0.1:8123/ ");
    }
}
