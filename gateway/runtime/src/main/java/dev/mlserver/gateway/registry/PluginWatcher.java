package dev.mlserver.gateway.registry;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls the plugins directory and lets each scan load, swap and unload jars. Polling rather
 * than a {@code WatchService}: it behaves the same on every filesystem (bind mounts, overlay
 * and network volumes, Kubernetes volumes that swap a symlink), where change events are
 * missing or late, and a stat of a handful of jars twice a second costs nothing.
 */
public final class PluginWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginWatcher.class);

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mlserver-plugin-watch");
        t.setDaemon(true);
        return t;
    });

    private PluginWatcher(PluginDirectory directory, long intervalMillis, long settleMillis) {
        thread.scheduleWithFixedDelay(() -> {
            try {
                directory.scan(settleMillis);
            } catch (RuntimeException | LinkageError e) {
                LOG.error("scanning {} failed; trying again in {} ms", directory.dir(), intervalMillis, e);
            }
        }, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        LOG.info("watching {} every {} ms (jars load once unchanged for {} ms)", directory.dir().toAbsolutePath(),
                intervalMillis, settleMillis);
    }

    /** Starts polling {@code directory} every {@code intervalMillis}. */
    public static PluginWatcher start(PluginDirectory directory, long intervalMillis, long settleMillis) {
        return new PluginWatcher(directory, intervalMillis, settleMillis);
    }

    /** Stops polling; a scan in progress finishes (up to {@code waitMillis}). Blocking. */
    public void stop(long waitMillis) {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(waitMillis, TimeUnit.MILLISECONDS)) {
                LOG.warn("a plugin scan is still running after {} ms", waitMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop(30_000);
    }
}
