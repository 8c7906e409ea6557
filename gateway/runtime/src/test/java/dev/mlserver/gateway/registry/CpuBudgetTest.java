package dev.mlserver.gateway.registry;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The CPU budget at load, with {@code onnx.cpu_cores: 4} so the outcome does not depend on the
 * machine: each fixture classifier below may run 2 predictions of 1 ONNX thread.
 */
class CpuBudgetTest {
    @TempDir
    Path plugins;
    @TempDir
    Path later;

    void threeClassifiers() {
        for (String name : new String[] {"alpha", "beta", "gamma"}) {
            PluginJars.plugin(name).classifier(FixtureClassifier.class).writeTo(plugins, name + ".jar");
        }
    }

    static String state(TestGateway gateway, String jar) {
        for (var p : TestGateway.json(gateway.get("/classifiers")).get("plugins")) {
            if (p.path("jar").asText().equals(jar)) {
                return p.path("state").asText() + (p.has("reason") ? ": " + p.get("reason").asText() : "");
            }
        }
        return "absent";
    }

    @Test
    void refuseLoadsWhatFitsAndRefusesTheClassifierThatGoesOverWithAClearReason() {
        threeClassifiers();
        try (TestGateway gateway = TestGateway.start(plugins, "onnx: {cpu_budget: refuse, cpu_cores: 4}\n")) {
            assertThat(state(gateway, "alpha.jar")).isEqualTo("ready");
            assertThat(state(gateway, "beta.jar")).isEqualTo("ready");
            assertThat(state(gateway, "gamma.jar")).startsWith("failed: CPU budget exceeded: gamma 1.0.0 may run 2 ONNX threads")
                    .contains("alpha 2", "beta 2", "6 threads for 4 cores", "max_concurrent_predictions", "cpu_budget: warn");
            assertThat(gateway.get("/gamma/ready").statusCode()).isEqualTo(404);
            assertThat(gateway.post("/alpha/predict", "{\"payload\": {\"x\": 1}}").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void warnServesEveryClassifierAndLogsTheOvercommit() {
        threeClassifiers();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(CpuBudget.class);
        log.start();
        logger.addAppender(log);
        try (TestGateway gateway = TestGateway.start(plugins, "onnx: {cpu_budget: warn, cpu_cores: 4}\n")) {
            assertThat(state(gateway, "gamma.jar")).isEqualTo("ready");
            assertThat(log.list).anySatisfy(e -> assertThat(e.getFormattedMessage())
                    .contains("CPU budget exceeded: gamma", "6 threads for 4 cores", "serving anyway"));
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void theEnvironmentCanTightenTheBudget() {
        threeClassifiers();
        try (TestGateway gateway = TestGateway.start(plugins, "onnx: {cpu_cores: 4}\n",
                Map.of("MLSERVER_CPU_BUDGET", "refuse", "MAX_CONCURRENT_PREDICTIONS", "1"))) {
            // one thread each now: all three fit in four cores
            assertThat(state(gateway, "gamma.jar")).isEqualTo("ready");
        }
    }

    @Test
    void aNewVersionReplacesItsPredecessorsShareInsteadOfAddingToIt() {
        PluginJars.plugin("alpha").classifier(FixtureClassifier.class).writeTo(plugins, "alpha.jar");
        PluginJars.plugin("beta").classifier(FixtureClassifier.class).writeTo(plugins, "beta.jar");
        try (TestGateway gateway = TestGateway.start(plugins, "onnx: {cpu_budget: refuse, cpu_cores: 4}\n")) {
            Path v2 = PluginJars.plugin("beta").version("2.0.0").classifier(FixtureClassifier.class).writeTo(later, "beta.jar");
            assertThat(gateway.gateway().registry().load(v2).state()).isEqualTo(PluginStatus.State.READY);
            assertThat(TestGateway.json(gateway.get("/beta")).path("version").asText()).isEqualTo("2.0.0");
        }
    }

    @Test
    void offChecksNothing() {
        threeClassifiers();
        try (TestGateway gateway = TestGateway.start(plugins, "onnx: {cpu_budget: off, cpu_cores: 1}\n")) {
            assertThat(state(gateway, "gamma.jar")).isEqualTo("ready");
        }
    }
}
