package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.dev.DevServer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code ml_server serve SOURCE}: the development loop in the foreground until interrupted. */
final class DevServe {
    private DevServe() {}

    static int run(Path source, GatewayConfig config, boolean watch, PrintStream err) throws InterruptedException {
        DevServer server = DevServer.start(source, config, watch);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "mlserver-dev-shutdown"));
        err.printf("serving %s from source on http://%s:%d/%s%s%n", server.classifier(), config.server().host(),
                server.port(), server.classifier(), watch ? " (watching for rebuilds)" : "");
        stopped.await();
        return 0;
    }
}
