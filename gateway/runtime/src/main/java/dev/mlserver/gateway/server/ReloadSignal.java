package dev.mlserver.gateway.server;

import dev.mlserver.gateway.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGHUP reloads the gateway config ({@link Gateway#reloadConfig}), on its own thread; an invalid
 * config is refused with one log line and the config in effect stays.
 */
final class ReloadSignal {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadSignal.class);

    private ReloadSignal() {}

    static void onHangUp(Gateway gateway) {
        try {
            Signal.handle(new Signal("HUP"), signal -> {
                Thread reload = new Thread(() -> reload(gateway), "mlserver-config-reload");
                reload.setDaemon(true);
                reload.start();
            });
        } catch (IllegalArgumentException e) {
            LOG.debug("cannot handle SIGHUP: {}", e.getMessage());
        }
    }

    private static void reload(Gateway gateway) {
        LOG.info("SIGHUP received: reloading the config");
        try {
            gateway.reloadConfig();
        } catch (ConfigException e) {
            LOG.error("config reload refused, the config in effect stays: {}", e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("config reload failed, the config in effect stays: {}", e.toString());
        }
    }
}
