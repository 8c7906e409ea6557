package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ml_server test | status | doctor}, run as the jar runs them, against real gateways. */
class DevCommandsTest {
    @TempDir
    static Path healthyDir;

    @TempDir
    static Path mixedDir;

    static TestGateway healthy;
    static TestGateway mixed;

    @BeforeAll
    static void start() throws IOException {
        copyExamples(healthyDir);
        copyExamples(mixedDir);
        PluginJars.plugin("broken").classifier(FixtureClassifier.class).yaml("fail: open\n").writeTo(mixedDir, "broken.jar");
        healthy = TestGateway.start(healthyDir);
        mixed = TestGateway.start(mixedDir);
    }

    @AfterAll
    static void stop() {
        healthy.close();
        mixed.close();
    }

    /** The example iris jar: these tests are about what the gateway shows, not about the family. */
    static void copyExamples(Path dir) throws IOException {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), dir.resolve("iris.jar"));
    }

    static Cli.Result run(String... args) {
        return Cli.run((Object[]) args);
    }

    static String url(TestGateway gateway) {
        return "http://127.0.0.1:" + gateway.port();
    }

    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void testSendsTheExampleAndPrintsTheAnswerAndItsMetadata() {
        Cli.Result run = run("test", "iris", "--url", url(healthy));
        assertThat(run.exit()).as(run.err()).isZero();
        String version = TestGateway.json(healthy.get("/iris")).get("version").asText();
        assertThat(run.out()).contains("POST " + url(healthy) + "/iris/predict -> 200", "\"sepal_length\" : 5.1",
                "predictions\n  setosa", "metadata", "version        " + version, "git_commit");
    }

    @Test
    void testWithDataCallsPredictProbaWhenAsked() {
        Cli.Result run = run("test", "iris", "--proba", "--data", "{\"payload\": [6.7, 3.0, 5.2, 2.3]}", "--url", url(healthy));
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("/iris/predict_proba -> 200").containsPattern("\n  virginica 0\\.9\\d{3}  versicolor");
    }

    @Test
    void testReadsTheBodyFromAFile(@TempDir Path dir) throws IOException {
        Path body = Files.writeString(dir.resolve("body.json"), "{\"instances\": [[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2]]}");
        Cli.Result run = run("test", "iris", "--file", body.toString(), "--url", url(healthy));
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("predictions\n  virginica\n  setosa\n");
    }

    @Test
    void testWithJsonPrintsTheRequestAndTheWholeAnswer() {
        Cli.Result run = run("test", "iris", "--json", "--url", url(healthy));
        assertThat(run.exit()).isZero();
        JsonNode envelope = run.json();
        assertThat(envelope.get("status").asInt()).isEqualTo(200);
        assertThat(envelope.get("url").asText()).isEqualTo(url(healthy) + "/iris/predict");
        assertThat(envelope.get("request").get("payload").get("sepal_length").asDouble()).isEqualTo(5.1);
        assertThat(envelope.get("response").get("predictions").get(0).asText()).isEqualTo("setosa");
        assertThat(envelope.get("response").get("metadata").get("classifier").asText()).isEqualTo("iris");
    }

    @Test
    void testOfAnInstanceTheClassifierRefusesExits1WithTheError() {
        Cli.Result run = run("test", "iris", "--data", "{\"payload\": [1, 2]}", "--url", url(healthy));
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).contains("-> 400", "invalid_input: expected 4 feature values");
    }

    @Test
    void testOfAnUnknownClassifierExits1AndNamesTheServedOnes() {
        Cli.Result run = run("test", "nope", "--url", url(healthy));
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("no classifier named 'nope'", "[iris]");
    }

    @Test
    void testWithoutAGatewayExits1() throws IOException {
        Cli.Result run = run("test", "iris", "--url", "http://127.0.0.1:" + closedPort());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("cannot connect to", "ml_server serve");
    }

    @Test
    void testWithDataThatIsNotJsonIsAUsageError() {
        Cli.Result run = run("test", "iris", "--data", "{nope", "--url", url(healthy));
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--data is not JSON");
    }

    @Test
    void testWithBothDataAndFileIsAUsageError() {
        Cli.Result run = run("test", "iris", "--data", "{}", "--file", "x.json", "--url", url(healthy));
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("mutually exclusive");
    }

    @Test
    void statusPrintsTheTableAndExits0WhenEveryPluginServes() {
        Cli.Result run = run("status", "--url", url(healthy));
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode iris = TestGateway.json(healthy.get("/iris"));
        assertThat(run.out()).contains("CLASSIFIER  VERSION", "P50", "P99")
                .containsPattern("\niris +" + iris.get("version").asText().replace(".", "\\.") + " +\\S+ +"
                        + iris.get("metadata").get("git_commit").asText() + " +ready +0/\\d+ +0/\\d+ ");
    }

    @Test
    void statusShowsAFailedPluginWithItsReasonAndExits1() {
        Cli.Result run = run("status", "--url", url(mixed));
        assertThat(run.exit()).isEqualTo(1);
        // the failed jar's manifest names its classifier and version
        assertThat(run.out()).containsPattern("\nbroken +1\\.0\\.0 .* failed ")
                .contains("broken.jar failed: ", "fixture refuses to open");
    }

    @Test
    void statusWithJsonPrintsTheStatusDocument() {
        Cli.Result run = run("status", "--json", "--url", url(healthy));
        assertThat(run.exit()).isZero();
        JsonNode status = run.json();
        assertThat(status.get("classifiers").get(0).get("name").asText()).isEqualTo("iris");
        assertThat(status.get("classifiers").get(0).has("slots_available")).isTrue();
    }

    @Test
    void doctorPassesOnTheExampleFamily() {
        Cli.Result run = run("doctor", "--plugins-dir", TestGateway.examplePlugins().toString(), "--port", "0");
        assertThat(run.exit()).as(run.out()).isZero();
        assertThat(run.out()).containsPattern("ok +java +Java \\d+")
                .containsPattern("ok +onnxruntime +ONNX Runtime \\d+\\.\\d+\\.\\d+ native library loaded")
                .containsPattern("ok +config ")
                .containsPattern("ok +plugin iris\\.jar +iris \\S+ \\(commit \\S+, tag \\S+\\) opens and warms up in \\d+ ms")
                .contains("0 to fix");
    }

    @Test
    void doctorReportsABrokenJarWithItsReasonAndAFix() {
        Cli.Result run = run("doctor", "--plugins-dir", mixedDir.toString(), "--port", "0");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).containsPattern("fail +plugin broken\\.jar +.*fixture refuses to open")
                .contains("fix: rebuild or remove this jar", "1 to fix");
    }

    @Test
    void doctorReportsAMissingPluginsDirectory(@TempDir Path dir) {
        Cli.Result run = run("doctor", "--plugins-dir", dir.resolve("absent").toString(), "--port", "0", "--json");
        assertThat(run.exit()).isEqualTo(1);
        JsonNode check = find(run.json(), "plugins dir");
        assertThat(check.get("result").asText()).isEqualTo("fail");
        assertThat(check.get("detail").asText()).endsWith("absent does not exist");
        assertThat(check.get("fix").asText()).contains("MLSERVER_PLUGINS_DIR");
    }

    @Test
    void doctorReportsAnInvalidConfigByKey(@TempDir Path dir) throws IOException {
        Path config = Files.writeString(dir.resolve("gateway.yaml"), "server:\n  prot: 8000\n");
        Cli.Result run = run("doctor", "--config", config.toString(), "--json");
        assertThat(run.exit()).isEqualTo(1);
        JsonNode check = find(run.json(), "config");
        assertThat(check.get("result").asText()).isEqualTo("fail");
        assertThat(check.get("detail").asText()).contains("server.prot");
    }

    @Test
    void doctorFindsTheGatewayOnItsPortAndChecksIt() {
        Cli.Result run = run("doctor", "--plugins-dir", healthyDir.toString(), "--port", Integer.toString(healthy.port()), "--json");
        assertThat(run.exit()).as(run.out()).isZero();
        JsonNode gateway = find(run.json(), "gateway");
        assertThat(gateway.get("result").asText()).isEqualTo("ok");
        assertThat(gateway.get("detail").asText()).contains("ready", "1 classifier(s) serving");
        assertThat(find(run.json(), "port").get("result").asText()).isEqualTo("warn");
    }

    @Test
    void doctorWithTheUrlOfAGatewayWithAFailedPluginExits1() {
        Cli.Result run = run("doctor", "--plugins-dir", healthyDir.toString(), "--port", "0", "--url", url(mixed));
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).containsPattern("fail +gateway +.*failed plugins: broken\\.jar: .*fixture refuses to open");
    }

    private static JsonNode find(JsonNode doctor, String name) {
        for (JsonNode c : doctor.get("checks")) {
            if (c.get("check").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no check " + name + " in " + doctor);
    }
}
