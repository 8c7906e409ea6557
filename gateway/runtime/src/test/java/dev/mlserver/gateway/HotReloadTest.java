package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.LoadLoop;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot reload with the directory watched: jars replaced, broken, removed, half-written, and
 * duplicated, while clients keep sending requests. Polling and settling are shortened so that
 * each reload takes a fraction of a second.
 */
class HotReloadTest {
    static final String WATCH = """
            plugins:
              watch: true
              watch_interval_ms: 50
              settle_ms: 200
            """;
    static final String X = "{\"payload\": {\"x\": 2}}";
    static final String SLOW = """
            sleep_ms: 1000
            limits:
              max_concurrent_predictions: 1
              queue_timeout_ms: 10000
            """;

    @TempDir
    Path plugins;

    @TempDir
    Path staging;

    private Path fixture(String version, String yaml) {
        return PluginJars.plugin("fixture").version(version).classifier(FixtureClassifier.class).yaml(yaml)
                .writeTo(plugins, "fixture.jar");
    }

    private static Optional<String> served(TestGateway gateway, String name) {
        return gateway.gateway().registry().find(name).map(c -> c.info().version());
    }

    private static void awaitVersion(LoadLoop load, String version) {
        await().atMost(Duration.ofSeconds(15)).until(() -> version.equals(load.newestSeen()));
    }

    private static void awaitDrained(TestGateway gateway) {
        await().atMost(Duration.ofSeconds(15)).until(() -> gateway.gateway().registry().retiring().isEmpty());
    }

    private static JsonNode pluginStatus(TestGateway gateway, String jar) {
        JsonNode plugins = TestGateway.json(gateway.get("/classifiers")).get("plugins");
        return StreamSupport.stream(plugins.spliterator(), false).filter(p -> p.get("jar").asText().equals(jar))
                .findFirst().orElse(null);
    }

    /** The jar's state, from one look at {@code /classifiers}; null while it has no entry. */
    private static String pluginState(TestGateway gateway, String jar) {
        JsonNode status = pluginStatus(gateway, jar);
        return status == null ? null : status.get("state").asText();
    }

    private static List<LoadLoop.Answer> failures(List<LoadLoop.Answer> answers) {
        return answers.stream().filter(a -> a.status() != 200).limit(5).toList();
    }

    private static String metric(TestGateway gateway, String prefix) {
        return gateway.get("/metrics").body().lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("");
    }

    private static long answered(List<CompletableFuture<HttpResponse<String>>> requests) {
        return requests.stream().filter(CompletableFuture::isDone).count();
    }

    private CompletableFuture<HttpResponse<String>> predictAsync(TestGateway gateway, String name) {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/" + name + "/predict"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(X)).build();
        return gateway.client().sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void replacingAJarTwentyTimesUnderLoadAnswersEveryRequestAndVersionsNeverGoBack() {
        fixture("1.0.0", "sleep_ms: 2\n");
        try (TestGateway gateway = TestGateway.start(plugins, WATCH);
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 4, 500_000)) {
            for (int i = 1; i <= 20; i++) {
                fixture("1.0." + i, "sleep_ms: 2\n");
                awaitVersion(load, "1.0." + i);
            }
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(failures(answers)).isEmpty();
            assertThat(load.violations()).isEmpty();
            assertThat(answers.size()).isGreaterThan(200);
            awaitDrained(gateway);
            String metrics = gateway.get("/metrics").body();
            assertThat(metrics.lines().filter(l -> l.startsWith("mlserver_classifier_version")))
                    .singleElement().asString().contains("version=\"1.0.20\"");
            // the old versions' series went with them
            assertThat(metrics).doesNotContain("version=\"1.0.19\"").doesNotContain("version=\"1.0.0\"");
            assertThat(metric(gateway, "mlserver_plugin_loads_total{result=\"success\"}")).endsWith(" 21.0");
        }
    }

    @Test
    void brokenJarsBetweenGoodOnesNeverInterruptTheServingVersion() throws IOException {
        fixture("1.0.0", "");
        List<String> reasons = List.of("not a readable jar", "fixture refuses to open", "warm-up", "reserved",
                "invalid classifier name");
        try (TestGateway gateway = TestGateway.start(plugins, WATCH);
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 3, 500_000)) {
            for (int i = 0; i < reasons.size(); i++) {
                switch (i) {
                    case 0 -> Files.write(plugins.resolve("fixture.jar"), "not a zip file at all".getBytes());
                    case 1 -> fixture("9.0.0", "fail: open\n");
                    case 2 -> fixture("9.0.0", "fail: warmup\n");
                    case 3 -> PluginJars.plugin("metrics").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
                    default -> PluginJars.plugin("Bad_Name").classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
                }
                String reason = reasons.get(i);
                await().atMost(Duration.ofSeconds(15)).until(() -> {
                    JsonNode s = pluginStatus(gateway, "fixture.jar");
                    return s != null && s.get("state").asText().equals("failed") && s.path("reason").asText().contains(reason);
                });
                assertThat(served(gateway, "fixture")).contains("1.0." + i);
                fixture("1.0." + (i + 1), "");
                awaitVersion(load, "1.0." + (i + 1));
            }
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(failures(answers)).isEmpty();
            assertThat(load.violations()).isEmpty();
            assertThat(metric(gateway, "mlserver_plugin_loads_total{result=\"failure\"}")).endsWith(" 5.0");
            assertThat(pluginStatus(gateway, "fixture.jar").get("state").asText()).isEqualTo("ready");
        }
    }

    @Test
    void afterTwentyReloadsTheOldClassLoadersAreCollectableAndTheThreadCountIsFlat() {
        var threads = ManagementFactory.getThreadMXBean();
        List<WeakReference<ClassLoader>> retired = new ArrayList<>();
        bundled("1.0.0");
        int[] baseline = new int[1];
        try (TestGateway gateway = TestGateway.start(plugins, WATCH)) {
            for (int i = 1; i <= 22; i++) {
                if (i == 3) {
                    // two reloads first, so that every thread a reload needs exists
                    awaitDrained(gateway);
                    await().pollDelay(Duration.ofMillis(300)).until(() -> true);
                    baseline[0] = threads.getThreadCount();
                }
                LoadedClassifier current = gateway.gateway().registry().find("fixture").orElseThrow();
                // the fixture class is defined by the plugin's own class loader, as a real plugin's is
                assertThat(current.classLoader()).isNotSameAs(getClass().getClassLoader());
                if (i >= 3) {
                    retired.add(new WeakReference<>(current.classLoader()));
                }
                current = null;
                bundled("1.0." + i);
                String version = "1.0." + i;
                await().atMost(Duration.ofSeconds(15)).until(() -> served(gateway, "fixture").orElse("").equals(version));
                for (int r = 0; r < 3; r++) {
                    assertThat(gateway.post("/fixture/predict", X).statusCode()).isEqualTo(200);
                }
                if (i == 22) {
                    awaitDrained(gateway);
                    // retired bulkheads' worker threads end shortly after their pools shut down
                    await().atMost(Duration.ofSeconds(15)).untilAsserted(
                            () -> assertThat(threads.getThreadCount()).isLessThanOrEqualTo(baseline[0] + 2));
                }
            }
            awaitDrained(gateway);
            assertThat(retired).hasSize(20);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                System.gc();
                return retired.stream().allMatch(ref -> ref.get() == null);
            });
        }
    }

    private void bundled(String version) {
        PluginJars.plugin("fixture").version(version).classifier(FixtureClassifier.class).writeTo(plugins, "fixture.jar");
    }

    @Test
    void aReplacedVersionAnswersItsRunningAndQueuedRequestsBeforeItCloses() {
        fixture("1.0.0", SLOW);
        try (TestGateway gateway = TestGateway.start(plugins, WATCH)) {
            LoadedClassifier old = gateway.gateway().registry().find("fixture").orElseThrow();
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                inFlight.add(predictAsync(gateway, "fixture"));
            }
            // one running, two queued in the old version's bulkhead
            // each one admitted, or (on a slow machine) already answered
            await().atMost(Duration.ofSeconds(30)).until(() -> old.bulkhead().admitted() + answered(inFlight) == 3);

            fixture("2.0.0", "");
            await().atMost(Duration.ofSeconds(15)).until(() -> served(gateway, "fixture").orElse("").equals("2.0.0"));
            HttpResponse<String> fresh = gateway.post("/fixture/predict", X);

            assertThat(fresh.statusCode()).isEqualTo(200);
            assertThat(TestGateway.json(fresh).get("metadata").get("version").asText()).isEqualTo("2.0.0");
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                HttpResponse<String> response = f.join();
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(TestGateway.json(response).get("metadata").get("version").asText()).isEqualTo("1.0.0");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> old.closed().isDone());
            assertThat(gateway.gateway().registry().retiring()).isEmpty();
        }
    }

    @Test
    void deletingAJarUnloadsItsClassifierAfterItsRequestsFinish() throws IOException {
        Path work = staging.resolve("work");
        Path slow = PluginJars.plugin("slow").classifier(FixtureClassifier.class).yaml(SLOW).writeTo(plugins, "slow.jar");
        PluginJars.plugin("other").classifier(FixtureClassifier.class).writeTo(plugins, "other.jar");
        String yaml = WATCH + "  work_dir: " + work + "\nadmin:\n  enabled: true\n";
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            LoadedClassifier loaded = gateway.gateway().registry().find("slow").orElseThrow();
            assertThat(gateway.post("/slow/predict", X).statusCode()).isEqualTo(200);
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                inFlight.add(predictAsync(gateway, "slow"));
            }
            // each one admitted, or (on a slow machine) already answered
            await().atMost(Duration.ofSeconds(30)).until(() -> loaded.bulkhead().admitted() + answered(inFlight) == 3);

            Files.delete(slow);
            await().atMost(Duration.ofSeconds(15)).until(() -> gateway.post("/slow/predict", X).statusCode() == 404);

            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                assertThat(f.join().statusCode()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> loaded.closed().isDone());
            awaitDrained(gateway);
            assertThat(TestGateway.json(gateway.post("/slow/predict", X)).get("error").get("code").asText())
                    .isEqualTo("unknown_classifier");
            String metrics = gateway.get("/metrics").body();
            assertThat(metrics).doesNotContain("classifier=\"slow\"").contains("classifier=\"other\"");
            assertThat(gateway.get("/admin/plugins").body()).doesNotContain("slow.jar").contains("other.jar");
            // only the private copy of the jar still served is left
            String otherSha = gateway.gateway().registry().find("other").orElseThrow().info().jarSha256();
            try (var copies = Files.list(work)) {
                assertThat(copies.map(p -> p.getFileName().toString()).toList()).containsExactly(otherSha + ".jar");
            }
        }
    }

    @Test
    void aCorruptJarDroppedBesideTheOthersChangesNothingThatServes() throws IOException {
        fixture("1.0.0", "");
        try (TestGateway gateway = TestGateway.start(plugins, WATCH)) {
            JsonNode before = TestGateway.json(gateway.get("/classifiers")).get("classifiers");

            Files.write(plugins.resolve("broken.jar"), "PK this is not a jar".getBytes());
            await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(pluginState(gateway, "broken.jar")));

            assertThat(pluginStatus(gateway, "broken.jar").get("reason").asText()).contains("not a readable jar");
            assertThat(TestGateway.json(gateway.get("/classifiers")).get("classifiers")).isEqualTo(before);
            assertThat(gateway.post("/fixture/predict", X).statusCode()).isEqualTo(200);
            assertThat(gateway.get("/health/ready").statusCode()).isEqualTo(200);
            assertThat(metric(gateway, "mlserver_plugin_loads_total{result=\"failure\"}")).endsWith(" 1.0");
        }
    }

    @Test
    void aJarStillBeingWrittenIsLoadedOnlyOnceItHasSettled() throws Exception {
        fixture("1.0.0", "");
        byte[] next = Files.readAllBytes(PluginJars.plugin("fixture").version("2.0.0").classifier(FixtureClassifier.class)
                .entry("artifacts/padding.bin", new byte[64 * 1024]).writeTo(staging, "fixture.jar"));
        String yaml = """
                plugins:
                  watch: true
                  watch_interval_ms: 50
                  settle_ms: 1500
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            // written in five pieces, 150 ms apart: well under the settle time each
            try (OutputStream out = Files.newOutputStream(plugins.resolve("fixture.jar"))) {
                int piece = next.length / 5 + 1;
                for (int offset = 0; offset < next.length; offset += piece) {
                    out.write(next, offset, Math.min(piece, next.length - offset));
                    out.flush();
                    Thread.sleep(150);
                }
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> served(gateway, "fixture").orElse("").equals("2.0.0"));

            assertThat(metric(gateway, "mlserver_plugin_loads_total{result=\"failure\"}")).endsWith(" 0.0");
            assertThat(pluginStatus(gateway, "fixture.jar").get("state").asText()).isEqualTo("ready");
        }
    }

    @Test
    void aSecondJarOfAServedVersionIsRefusedUntilTheFirstIsRemovedThenTakesOverWithoutAGap() throws IOException {
        PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "a.jar");
        try (TestGateway gateway = TestGateway.start(plugins, WATCH);
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 2, 500_000)) {
            PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class)
                    .entry("artifacts/other.bin", new byte[16]).writeTo(plugins, "b.jar");
            await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(pluginState(gateway, "b.jar")));
            assertThat(pluginStatus(gateway, "b.jar").get("reason").asText()).contains("already served from a.jar");
            String before = gateway.gateway().registry().find("fixture").orElseThrow().info().jarSha256();

            Files.delete(plugins.resolve("a.jar"));
            // while b.jar is loaded again its entry may be between states: absent counts as not ready yet
            await().atMost(Duration.ofSeconds(15)).until(() -> "ready".equals(pluginState(gateway, "b.jar")));
            await().atMost(Duration.ofSeconds(15)).until(() -> !before.equals(
                    gateway.gateway().registry().find("fixture").map(c -> c.info().jarSha256()).orElse(before)));
            int answered = load.answered();
            await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > answered + 20);
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(failures(answers)).isEmpty();
            assertThat(pluginStatus(gateway, "a.jar")).isNull();
        }
    }

    @Test
    void aNewVersionDroppedBesideServesWithTheOldOneAndRemovingItHandsTheDefaultBackWithoutAGap() throws IOException {
        PluginJars.plugin("fixture").version("1.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-1.0.0.jar");
        try (TestGateway gateway = TestGateway.start(plugins, WATCH);
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 2, 500_000)) {
            PluginJars.plugin("fixture").version("2.0.0").classifier(FixtureClassifier.class).writeTo(plugins, "fixture-2.0.0.jar");
            awaitVersion(load, "2.0.0");
            assertThat(gateway.post("/fixture/versions/1.0.0/predict", X).statusCode()).isEqualTo(200);
            assertThat(pluginStatus(gateway, "fixture-2.0.0.jar").get("state").asText()).isEqualTo("ready");
            assertThat(pluginStatus(gateway, "fixture-1.0.0.jar").get("state").asText()).isEqualTo("ready");

            Files.delete(plugins.resolve("fixture-2.0.0.jar"));
            await().atMost(Duration.ofSeconds(15)).until(() -> served(gateway, "fixture").orElse("").equals("1.0.0"));
            int answered = load.answered();
            await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > answered + 20);
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(failures(answers)).isEmpty();
            assertThat(gateway.post("/fixture/versions/2.0.0/predict", X).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void renamingAServedJarHandsItsClassifierToTheNewNameWithoutAGap() throws IOException {
        fixture("1.0.0", "");
        try (TestGateway gateway = TestGateway.start(plugins, WATCH);
             LoadLoop load = LoadLoop.start(gateway, "/fixture/predict", X, 2, 500_000)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> load.answered() > 20);

            Files.move(plugins.resolve("fixture.jar"), plugins.resolve("fixture-1.0.0.jar"));
            await().atMost(Duration.ofSeconds(15)).until(() -> pluginStatus(gateway, "fixture.jar") == null
                    && "ready".equals(pluginState(gateway, "fixture-1.0.0.jar")));
            int before = load.answered();
            await().atMost(Duration.ofSeconds(30)).until(() -> load.answered() > before + 20);
            List<LoadLoop.Answer> answers = load.stop();

            assertThat(failures(answers)).isEmpty();
            assertThat(gateway.gateway().registry().find("fixture").orElseThrow().info().jar().getFileName())
                    .hasToString("fixture-1.0.0.jar");
        }
    }

    @Test
    void adminRoutesAnswer404UnlessEnabled() {
        fixture("1.0.0", "");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            HttpResponse<String> list = gateway.get("/admin/plugins");
            HttpResponse<String> reload = gateway.post("/admin/plugins/reload", "");

            assertThat(list.statusCode()).isEqualTo(404);
            assertThat(TestGateway.json(list).get("error").get("code").asText()).isEqualTo("not_found");
            assertThat(reload.statusCode()).isEqualTo(404);
        }
    }

    @Test
    void adminReloadLoadsNewJarsWhenWatchingIsOffAndListsStatesHashesAndErrors() throws Exception {
        fixture("1.0.0", "");
        String yaml = """
                plugins:
                  watch: false
                  watch_interval_ms: 50
                  settle_ms: 0
                admin:
                  enabled: true
                """;
        try (TestGateway gateway = TestGateway.start(plugins, yaml)) {
            Path other = PluginJars.plugin("other").version("3.1.0").classifier(FixtureClassifier.class).writeTo(plugins, "other.jar");
            Files.write(plugins.resolve("broken.jar"), "no zip".getBytes());
            Thread.sleep(500); // ten poll intervals: a watcher would have loaded them by now
            assertThat(gateway.post("/other/predict", X).statusCode()).isEqualTo(404);

            HttpResponse<String> reload = gateway.post("/admin/plugins/reload", "");

            assertThat(reload.statusCode()).isEqualTo(200);
            JsonNode scan = TestGateway.json(reload);
            assertThat(scan.get("loaded").get(0).get("jar").asText()).isEqualTo("other.jar");
            assertThat(scan.get("failed").get(0).get("jar").asText()).isEqualTo("broken.jar");
            assertThat(scan.get("unchanged").asInt()).isEqualTo(1);
            assertThat(gateway.post("/other/predict", X).statusCode()).isEqualTo(200);

            JsonNode state = TestGateway.json(gateway.get("/admin/plugins"));
            assertThat(state.get("watch").get("enabled").asBoolean()).isFalse();
            JsonNode plugin = StreamSupport.stream(state.get("plugins").spliterator(), false)
                    .filter(p -> p.get("jar").asText().equals("other.jar")).findFirst().orElseThrow();
            assertThat(plugin.get("state").asText()).isEqualTo("ready");
            assertThat(plugin.get("sha256").asText()).isEqualTo(sha256(Files.readAllBytes(other)));
            assertThat(plugin.get("serving").get("version").asText()).isEqualTo("3.1.0");
            JsonNode broken = StreamSupport.stream(state.get("plugins").spliterator(), false)
                    .filter(p -> p.get("jar").asText().equals("broken.jar")).findFirst().orElseThrow();
            assertThat(broken.get("reason").asText()).contains("not a readable jar");
            assertThat(broken.get("sha256").asText()).isEqualTo(sha256("no zip".getBytes()));
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
