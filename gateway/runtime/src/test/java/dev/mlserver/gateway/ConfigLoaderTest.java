package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    @Test
    void theEmbeddedDefaultListsTheDocumentedDefaults() {
        GatewayConfig config = ConfigLoader.create(Map.of()).load(Optional.empty());
        assertThat(config.server().port()).isEqualTo(8000);
        assertThat(config.plugins().dir()).isEqualTo(Path.of("plugins/target/plugins"));
        assertThat(config.api().version()).isEqualTo("v1");
        assertThat(config.api().includeVersionInUrl()).isFalse();
        assertThat(config.limits().maxConcurrentPredictions()).isEqualTo(2);
    }

    @Test
    void environmentVariablesOverrideTheFile() {
        GatewayConfig config = ConfigLoader.create(Map.of("MLSERVER_PORT", "9001", "MAX_CONCURRENT_PREDICTIONS", "1",
                "MLSERVER_PLUGINS_DIR", "/opt/plugins")).fromYaml("server:\n  port: 7000\n", "test");
        assertThat(config.server().port()).isEqualTo(9001);
        assertThat(config.limits().maxConcurrentPredictions()).isEqualTo(1);
        assertThat(config.plugins().dir()).isEqualTo(Path.of("/opt/plugins"));
    }

    @Test
    void aBadEnvironmentVariableIsReportedAsThatVariableNotAsTheConfigFile() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of("MAX_CONCURRENT_PREDICTIONS", "0")).load(Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("environment variable MAX_CONCURRENT_PREDICTIONS=0: must be a whole number of at least 1");
        assertThatThrownBy(() -> ConfigLoader.create(Map.of("MLSERVER_PORT", "80000")).load(Optional.empty()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("environment variable MLSERVER_PORT=80000: must be a whole number between 0 and 65535");
        assertThatThrownBy(() -> ConfigLoader.create(Map.of("MAX_CONCURRENT_PREDICTIONS", "two")).load(Optional.empty()))
                .hasMessageStartingWith("environment variable MAX_CONCURRENT_PREDICTIONS=two: ");
    }

    @Test
    void anUnknownKeyIsRefusedWithItsFullName() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("server:\n  prot: 1\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("gw.yaml").hasMessageContaining("server.prot");
    }

    @Test
    void aWrongTypeIsRefused() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("server:\n  port: eighty\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("server.port");
    }

    @Test
    void aNonNumericEnvironmentOverrideIsRefused() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of("MAX_CONCURRENT_PREDICTIONS", "many")).fromYaml("", "t"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("MAX_CONCURRENT_PREDICTIONS");
    }

    @Test
    void invalidYamlIsAClearError() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of()).fromYaml("server: [unclosed", "gw.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not valid YAML");
    }

    @Test
    void customTagsAreRefused() {
        assertThatThrownBy(() -> ConfigLoader.create(Map.of())
                .fromYaml("repository: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[]]]\n", "gw.yaml"))
                .isInstanceOf(ConfigException.class);
    }
}
