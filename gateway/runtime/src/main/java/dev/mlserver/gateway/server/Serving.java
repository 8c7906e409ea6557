package dev.mlserver.gateway.server;

import dev.mlserver.gateway.config.GatewayConfig;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/** Runs a gateway in the foreground until SIGTERM or SIGINT has drained it. */
public final class Serving {
    private Serving() {}

    /** Serves {@code config} until a termination signal; 0 after a graceful stop, 1 when it cannot listen. */
    public static int run(GatewayConfig config, String program, PrintStream err) throws InterruptedException {
        return run(config, () -> config, program, err);
    }

    /**
     * Like {@link #run(GatewayConfig, String, PrintStream)}; SIGHUP reloads the config from
     * {@code source} (the file, the environment and the command line read again).
     */
    public static int run(GatewayConfig config, Supplier<GatewayConfig> source, String program, PrintStream err)
            throws InterruptedException {
        Gateway gateway = Gateway.create(config, source);
        ReloadSignal.onHangUp(gateway);
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM and SIGINT drain and then exit 0; any other exit still stops the gateway
        ShutdownSignals.onTermination(() -> {
            ShutdownSignals.haltAfter(config.lifecycle().gracePeriodMs() + config.lifecycle().drainTimeoutMs()
                    + ShutdownSignals.MARGIN_MS);
            gateway.stop();
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(gateway::stop, "mlserver-shutdown"));
        try {
            gateway.start().await();
        } catch (RuntimeException e) {
            err.println(program + ": cannot listen on " + config.server().host() + ":"
                    + config.server().port() + ": " + e.getMessage());
            return 1;
        }
        stopped.await();
        return 0;
    }
}
