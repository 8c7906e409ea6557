package dev.mlserver.gateway.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.collect.ImmutableList;
import dev.mlserver.gateway.registry.PluginStatus;
import dev.mlserver.gateway.testing.GuavaClassifier;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin sees the platform (plugin-api, PF4J, Jackson, SLF4J, ONNX Runtime) and nothing else
 * of the gateway's class path: a library the platform does not offer must be in the plugin jar.
 * Guava is on this test's class path, as a gateway library would be.
 */
class PlatformIsolationTest {
    @TempDir
    Path plugins;

    @Test
    void aPluginUsingGuavaWithoutBundlingItFailsToLoadWithTheReason() {
        PluginJars.plugin("borrower").classifier(GuavaClassifier.class).writeTo(plugins, "borrower.jar");
        PluginJars.plugin("good").classifier(dev.mlserver.gateway.testing.FixtureClassifier.class).writeTo(plugins, "good.jar");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            PluginStatus status = status(gateway, "borrower.jar");
            assertThat(status.state()).isEqualTo(PluginStatus.State.FAILED);
            assertThat(status.reason())
                    .contains("the plugin needs com.google.common.collect.ImmutableList")
                    .contains("neither in its jar nor part of the platform")
                    .contains("bundle the library that holds it in the plugin jar");
            assertThat(gateway.post("/borrower/predict", "{\"payload\": {\"x\": 1}}").statusCode()).isEqualTo(404);
            assertThat(gateway.post("/good/predict", "{\"payload\": {\"x\": 1}}").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void theSamePluginWithGuavaBundledLoadsAndUsesItsOwnCopy() {
        PluginJars.plugin("bundler").classifier(GuavaClassifier.class).bundling(ImmutableList.class)
                .writeTo(plugins, "bundler.jar");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(status(gateway, "bundler.jar").state()).isEqualTo(PluginStatus.State.READY);
            JsonNode body = TestGateway.json(gateway.post("/bundler/predict", "{\"payload\": {\"x\": 1}}"));
            assertThat(body.get("predictions").get(0).asText()).isEqualTo("high");
            ClassLoader plugin = gateway.gateway().registry().serving().iterator().next().classLoader();
            Class<?> theirs = Class.forName(ImmutableList.class.getName(), false, plugin);
            assertThat(theirs).isNotSameAs(ImmutableList.class);
            assertThat(theirs.getClassLoader()).isSameAs(plugin);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theGatewaysOwnLibrariesAreInvisibleAndThePlatformIsShared() throws Exception {
        PluginJars.plugin("bundler").classifier(GuavaClassifier.class).bundling(ImmutableList.class)
                .writeTo(plugins, "bundler.jar");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            ClassLoader plugin = gateway.gateway().registry().serving().iterator().next().classLoader();
            for (String hidden : new String[] {"io.vertx.core.Vertx", "io.netty.channel.Channel",
                    "com.github.benmanes.caffeine.cache.Caffeine", "dev.mlserver.gateway.server.Gateway"}) {
                assertThat(canLoad(plugin, hidden)).as(hidden).isFalse();
            }
            for (Class<?> shared : new Class<?>[] {dev.mlserver.api.Classifier.class, org.pf4j.Extension.class,
                    com.fasterxml.jackson.databind.JsonNode.class, org.slf4j.Logger.class, ai.onnxruntime.OrtEnvironment.class}) {
                assertThat(Class.forName(shared.getName(), false, plugin)).as(shared.getName()).isSameAs(shared);
            }
            assertThat(plugin.getResource("logback.xml")).isNull();
            assertThat(plugin.getResource("java/lang/Object.class")).isNotNull();
            assertThat(canLoad(plugin, "java.sql.Connection")).isTrue();
        }
    }

    private static boolean canLoad(ClassLoader loader, String name) {
        try {
            Class.forName(name, false, loader);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static PluginStatus status(TestGateway gateway, String jar) {
        return gateway.gateway().registry().statuses().stream().filter(s -> s.jar().equals(jar)).findFirst().orElseThrow();
    }
}
