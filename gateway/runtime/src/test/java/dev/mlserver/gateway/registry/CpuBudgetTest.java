package dev.mlserver.gateway.registry;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The CPU budget at load, with {@code onnx.cpu_cores: 4} so the outcome does not depend on the
 * machine: each fixture classifier below may run 2 predictions at once; with
 * {@code intra_op_threads: 2} each of them keeps 2 threads busy.
 */
class CpuBudgetTest {
    static final String TWO_THREADS = "onnx: {intra_op_threads: 2, cpu_cores: 4, cpu_budget: %s}\n";

    @TempDir
    Path plugins;
    @TempDir
    Path later;

    void classifiers(String... names) {
        for (String name : names) {
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

    /** The CPU budget warnings logged while {@code run} runs. */
    static List<String> warnings(Runnable run) {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(CpuBudget.class);
        log.start();
        logger.addAppender(log);
        try {
            run.run();
        } finally {
            logger.detachAppender(log);
        }
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    static void serve(Path plugins, String yaml, Map<String, String> env, Consumer<TestGateway> then) {
        try (TestGateway gateway = TestGateway.start(plugins, yaml, env)) {
            then.accept(gateway);
        }
    }

    @Test
    void refuseTurnsAwayTheClassifierThatGoesOverNamingTheValueThatFits() {
        classifiers("alpha");
        serve(plugins, TWO_THREADS.formatted("refuse"), Map.of(), gateway -> {
            assertThat(state(gateway, "alpha.jar")).isEqualTo("ready");
            Path beta = PluginJars.plugin("beta").classifier(FixtureClassifier.class).writeTo(plugins, "beta.jar");
            PluginStatus refused = gateway.gateway().registry().load(beta);
            assertThat(refused.state()).isEqualTo(PluginStatus.State.FAILED);
            assertThat(refused.reason()).startsWith("beta 1.0.0 not loaded: CPU budget: 4 prediction(s) may run at once")
                    .contains("8 threads for 4 core(s)", "Set onnx.intra_op_threads: 1 to fit", "cpu_budget: warn");
            assertThat(gateway.get("/beta/ready").statusCode()).isEqualTo(404);
            assertThat(gateway.post("/alpha/predict", "{\"payload\": {\"x\": 1}}").statusCode()).isEqualTo(200);
        });
    }

    @Test
    void warnServesEveryClassifierAndWarnsOnceForTheWholeStartUp() {
        classifiers("alpha", "beta", "gamma");
        List<String> warnings = warnings(() -> serve(plugins, TWO_THREADS.formatted("warn"), Map.of(),
                gateway -> assertThat(state(gateway, "gamma.jar")).isEqualTo("ready")));
        assertThat(warnings).singleElement().asString()
                .contains("6 prediction(s) may run at once", "12 threads for 4 core(s)", "Set onnx.intra_op_threads: 1",
                        "serving anyway");
    }

    @Test
    void aHotSwapThatChangesNothingWarnsNothingMore() {
        classifiers("alpha", "beta");
        List<String> warnings = warnings(() -> serve(plugins, TWO_THREADS.formatted("warn"), Map.of(), gateway -> {
            for (String version : new String[] {"2.0.0", "3.0.0"}) {
                Path next = PluginJars.plugin("beta").version(version).classifier(FixtureClassifier.class).writeTo(later, "beta.jar");
                assertThat(gateway.gateway().registry().load(next).state()).isEqualTo(PluginStatus.State.READY);
            }
        }));
        assertThat(warnings).hasSize(1);
    }

    @Test
    void oneThreadPerPredictionIsNeverOverTheBudget() {
        // the embedded config's intra_op_threads: 1, with the generated manifests' 1 CPU and concurrency 2
        classifiers("alpha", "beta", "gamma");
        List<String> warnings = warnings(() -> serve(plugins, "onnx: {cpu_cores: 1, cpu_budget: refuse}\n",
                Map.of("MAX_CONCURRENT_PREDICTIONS", "2"), gateway -> assertThat(state(gateway, "gamma.jar")).isEqualTo("ready")));
        assertThat(warnings).isEmpty();
    }

    @Test
    void theExampleFamilyOnTheEmbeddedConfigIsQuiet() {
        List<String> warnings = warnings(() -> serve(TestGateway.examplePlugins(), "onnx: {cpu_cores: 1}\n", Map.of(),
                gateway -> assertThat(gateway.gateway().registry().serving()).hasSizeGreaterThanOrEqualTo(5)));
        assertThat(warnings).isEmpty();
    }

    @Test
    void theEnvironmentCanBringTheClassifiersUnderTheBudget() {
        classifiers("alpha", "beta");
        serve(plugins, TWO_THREADS.formatted("refuse"), Map.of("MAX_CONCURRENT_PREDICTIONS", "1"),
                // two predictions of two threads: four threads for four cores
                gateway -> assertThat(state(gateway, "beta.jar")).isEqualTo("ready"));
    }

    @Test
    void offChecksNothing() {
        classifiers("alpha", "beta", "gamma");
        serve(plugins, "onnx: {intra_op_threads: 4, cpu_budget: off, cpu_cores: 1}\n", Map.of(),
                gateway -> assertThat(state(gateway, "gamma.jar")).isEqualTo("ready"));
    }
}
