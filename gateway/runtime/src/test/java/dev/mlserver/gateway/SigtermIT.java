package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.testing.FixtureClassifier;
import dev.mlserver.gateway.testing.JdkHttp;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged {@code mlserver-runtime.jar serve} as a child process, sent SIGTERM while clients load
 * it. Runs in the integration-test phase, after the shaded jar exists.
 */
class SigtermIT {
    static final Pattern LISTENING = Pattern.compile("listening on [^:]+:(\\d+)");
    static final String X = "{\"payload\": {\"x\": 2}}";

    @TempDir
    Path dir;

    private Process server;

    /** One request: when it was sent, relative to the signal, and what came back. */
    record Sent(long sentNanos, int status, String body) {}

    @AfterEach
    void killLeftovers() {
        if (server != null && server.isAlive()) {
            server.destroyForcibly();
        }
    }

    @Test
    void sigtermDuringLoadAnswersEveryRequestSentBeforeItAndExitsZero() throws Exception {
        Path jar = Path.of(System.getProperty("mlserver.runtimeJar", "target/mlserver-runtime.jar"));
        assertThat(jar).as("run through Maven's integration-test phase, after package").exists();
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        PluginJars.plugin("slow").classifier(FixtureClassifier.class).yaml("""
                sleep_ms: 200
                limits:
                  max_concurrent_predictions: 4
                  queue_timeout_ms: 10000
                """).writeTo(plugins, "slow.jar");
        Path config = Files.writeString(dir.resolve("gateway.yaml"), """
                server:
                  host: 127.0.0.1
                  port: 0
                grpc:
                  port: 0
                plugins:
                  watch: false
                shutdown:
                  grace_period_ms: 3000
                  drain_timeout_ms: 10000
                warmup:
                  requests: 20
                  until_jit_quiet: false
                """);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path logFile = dir.resolve("server.log");
        server = new ProcessBuilder(java.toString(), "-Xmx256m", "-jar", jar.toString(), "serve",
                "--config", config.toString(), "--plugins-dir", plugins.toString())
                .redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        AtomicInteger port = new AtomicInteger();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            Matcher m = LISTENING.matcher(Files.readString(logFile));
            if (m.find()) {
                port.set(Integer.parseInt(m.group(1)));
            }
            return port.get() > 0 || !server.isAlive();
        });
        assertThat(port.get()).as(Files.readString(logFile)).isPositive();

        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI base = URI.create("http://127.0.0.1:" + port.get());
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> client.send(
                HttpRequest.newBuilder(base.resolve("/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200);

        ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
        AtomicBoolean sending = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        HttpRequest predict = HttpRequest.newBuilder(base.resolve("/slow/predict")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(X)).build();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                while (sending.get() && sent.size() < 2_000) {
                    long at = System.nanoTime();
                    try {
                        HttpResponse<String> r = JdkHttp.send(client, predict, HttpResponse.BodyHandlers.ofString());
                        sent.add(new Sent(at, r.statusCode(), r.body()));
                    } catch (Exception e) {
                        sent.add(new Sent(at, -1, e.toString()));
                        return; // the port is closed: this client is done
                    }
                }
            }, "client-" + i);
            t.setDaemon(true);
            clients.add(t);
            t.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> sent.size() >= 40);

        long signal = System.nanoTime();
        server.toHandle().destroy(); // SIGTERM, leaving the output file alone
        // readiness turns 503 before the grace period (3 s, which keeps serving) ends: a closed port fails the wait
        HttpRequest ready = HttpRequest.newBuilder(base.resolve("/health/ready")).build();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(
                () -> client.send(ready, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
        boolean exited = server.waitFor(60, TimeUnit.SECONDS);
        sending.set(false);
        for (Thread t : clients) {
            t.join(30_000);
        }

        String log = Files.readString(logFile);
        assertThat(exited).as(log).isTrue();
        assertThat(server.exitValue()).as(log).isZero();
        List<Sent> beforeSignal = sent.stream().filter(s -> s.sentNanos() < signal).toList();
        System.out.printf("sent before SIGTERM: %d (all answered 200); sent after it and answered 200: %d; refused after the grace period: %d%n",
                beforeSignal.size(), sent.stream().filter(s -> s.sentNanos() > signal && s.status() == 200).count(),
                sent.stream().filter(s -> s.status() != 200).count());
        assertThat(beforeSignal.size()).isGreaterThanOrEqualTo(40);
        assertThat(beforeSignal).allSatisfy(s -> {
            assertThat(s.status()).as(s.body()).isEqualTo(200);
            assertThat(TestGateway.JSON.readTree(s.body()).get("predictions").get(0).asText()).isEqualTo("high");
        });
        // the grace period served requests sent after the signal as well
        assertThat(sent.stream().filter(s -> s.sentNanos() > signal && s.status() == 200).count()).isPositive();
        assertThat(log).contains("SIGTERM received").contains("mlserver stopped");
    }
}
