package dev.mlserver.gateway.server;

import dev.mlserver.gateway.config.GatewayConfig;
import io.netty.channel.unix.Errors;
import java.io.PrintStream;
import java.net.BindException;
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
            ShutdownSignals.haltAfter(config.lifecycle().shutdownLimitMs());
            gateway.stop();
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(gateway::stop, "mlserver-shutdown"));
        try {
            gateway.start().await();
        } catch (Exception e) {
            // a BindException is checked, yet await() throws it as it is
            err.println(program + ": " + cannotListen(config.server().host(), config.server().port(), e));
            return 1;
        }
        stopped.await();
        return 0;
    }

    /** One line on why the port cannot be had, and what to do; {@code port} is the HTTP port asked for. */
    static String cannotListen(String host, int port, Throwable e) {
        String settings = CannotListen.HTTP_SETTINGS;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CannotListen failed) {
                port = failed.port();
                settings = failed.settings();
            }
            if (t instanceof BindException || addressInUse(t)) {
                return "cannot listen on " + host + ":" + port + ": port " + port + " is already in use (see `ss -ltnp | grep :"
                        + port + "`); stop what listens there or pick another port with " + settings;
            }
        }
        return "cannot listen on " + host + ":" + port + ": " + e.getMessage();
    }

    /** The native (epoll) transport reports a taken port as its own exception, with the C library's text. */
    private static boolean addressInUse(Throwable t) {
        return t instanceof Errors.NativeIoException && String.valueOf(t.getMessage()).contains("Address already in use");
    }
}
