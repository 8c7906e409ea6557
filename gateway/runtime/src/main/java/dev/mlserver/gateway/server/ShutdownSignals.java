package dev.mlserver.gateway.server;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a graceful stop that exits 0. With only a shutdown hook the JVM would
 * exit 143 on SIGTERM, which Kubernetes and process supervisors report as a failure.
 */
public final class ShutdownSignals {
    private static final Logger LOG = LoggerFactory.getLogger(ShutdownSignals.class);

    private ShutdownSignals() {}

    /**
     * Halts the process {@code millis} from now unless it has exited: a stop never waits longer
     * than that, whatever a plugin does (a non-daemon thread, a close() that never returns).
     */
    static void haltAfter(long millis) {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                return;
            }
            LOG.error("shutdown did not complete within {} ms; halting", millis);
            Runtime.getRuntime().halt(1);
        }, "mlserver-shutdown-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** Runs {@code stop} once, on its own thread, at the first SIGTERM or SIGINT; later signals are ignored. */
    public static void onTermination(Runnable stop) {
        Thread stopper = new Thread(stop, "mlserver-shutdown");
        AtomicBoolean started = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signal -> {
                    if (started.compareAndSet(false, true)) {
                        LOG.info("SIG{} received", signal.getName());
                        stopper.start();
                    }
                });
            } catch (IllegalArgumentException e) {
                LOG.debug("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }
}
