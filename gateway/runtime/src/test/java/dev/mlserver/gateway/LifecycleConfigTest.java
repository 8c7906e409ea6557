package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The hot-reload, admin and shutdown keys: plugins.watch*, admin.enabled, shutdown.*. */
class LifecycleConfigTest {
    @Test
    void theEmbeddedDefaultWatchesAndKeepsAdminOff() {
        GatewayConfig config = ConfigLoader.create(Map.of()).load(Optional.empty());

        assertThat(config.lifecycle()).isEqualTo(GatewayConfig.Lifecycle.DEFAULTS);
        assertThat(config.lifecycle().watch()).isTrue();
        assertThat(config.lifecycle().adminEnabled()).isFalse();
        assertThat(config.lifecycle().watchIntervalMs()).isEqualTo(500);
        assertThat(config.lifecycle().settleMs()).isEqualTo(1000);
        assertThat(config.lifecycle().gracePeriodMs()).isZero();
        assertThat(config.lifecycle().drainTimeoutMs()).isEqualTo(15_000);
    }

    @Test
    void aProductionFileTurnsWatchingOffAndSetsTheShutdownTimes() {
        GatewayConfig config = ConfigLoader.create(Map.of()).fromYaml("""
                plugins:
                  watch: false
                  watch_interval_ms: 2000
                  settle_ms: 3000
                  load_timeout_ms: 7000
                admin:
                  enabled: true
                shutdown:
                  grace_period_ms: 5000
                  drain_timeout_ms: 20000
                """, "prod.yaml");

        assertThat(config.lifecycle()).isEqualTo(new GatewayConfig.Lifecycle(false, 2000, 3000, true, 5000, 20_000, 7000));
    }

    @Test
    void nonsenseTimesAreRefusedWithTheKeyName() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("plugins:\n  watch_interval_ms: 0\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("plugins.watch_interval_ms");
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("shutdown:\n  grace_period_ms: -1\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("shutdown.grace_period_ms");
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("plugins:\n  watch: sometimes\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("plugins.watch");
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("admin:\n  enable: true\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("admin.enable");
    }

    @Test
    void theEnvironmentSetsTheShutdownTimesOverTheFile() {
        GatewayConfig config = ConfigLoader.create(Map.of(ConfigLoader.SHUTDOWN_GRACE_PERIOD_ENV, "5000",
                ConfigLoader.SHUTDOWN_DRAIN_TIMEOUT_ENV, "20000")).fromYaml("shutdown:\n  drain_timeout_ms: 1000\n", "gw.yaml");

        assertThat(config.lifecycle().gracePeriodMs()).isEqualTo(5000);
        assertThat(config.lifecycle().drainTimeoutMs()).isEqualTo(20_000);
        assertThat(config.lifecycle().shutdownLimitMs())
                .isEqualTo(5000 + 20_000 + GatewayConfig.Lifecycle.SHUTDOWN_MARGIN_MS);
    }

    @Test
    void aBadShutdownVariableIsNamed() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of(ConfigLoader.SHUTDOWN_GRACE_PERIOD_ENV, "5s")).load(Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("environment variable MLSERVER_SHUTDOWN_GRACE_PERIOD_MS=5s");
    }
}
