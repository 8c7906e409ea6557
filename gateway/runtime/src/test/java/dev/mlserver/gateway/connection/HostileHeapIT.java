package dev.mlserver.gateway.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mlserver.gateway.testing.JdkHttp;
import dev.mlserver.gateway.testing.RawConnection;
import dev.mlserver.gateway.testing.RawHttp;
import dev.mlserver.gateway.testing.Responsiveness;
import dev.mlserver.gateway.testing.TestGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged {@code mlserver-runtime.jar} as a child process with a small heap, and 1,000
 * connections each sending a body just under {@code max_body_bytes} that never finishes: the heap
 * stays under its limit (no {@code OutOfMemoryError}), the bodies held stay within the budget, the
 * rest are refused with 503 before being read, and a well-behaved client is served throughout.
 */
class HostileHeapIT {
    static final Pattern LISTENING = Pattern.compile("listening on [^:]+:(\\d+)");
    static final long HEAP = 256L << 20;
    static final int CONNECTIONS = 1000;
    static final int MAX_BODY = 1 << 20;

    @TempDir
    Path dir;

    private Process server;

    @AfterEach
    void killLeftovers() {
        if (server != null && server.isAlive()) {
            server.destroyForcibly();
        }
    }

    @Test
    void aThousandUnfinishedBodiesJustUnderTheLimitDoNotExhaustTheHeap() throws Exception {
        Path jar = Path.of(System.getProperty("mlserver.runtimeJar", "target/mlserver-runtime.jar"));
        assertThat(jar).as("run through Maven's integration-test phase, after package").exists();
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        Path config = Files.writeString(dir.resolve("gateway.yaml"), """
                server:
                  host: 127.0.0.1
                  port: 0
                  max_body_bytes: %d
                  body_timeout_ms: 120000
                grpc:
                  port: 0
                plugins:
                  watch: false
                logging:
                  access_log: false
                # a short warm-up: readiness is not what this measures, and on a loaded machine the
                # default one runs to its 60 s limit, as long as the wait for readiness below
                warmup:
                  requests: 20
                  until_jit_quiet: false
                """.formatted(MAX_BODY));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = dir.resolve("server.log");
        server = new ProcessBuilder(java.toString(), "-Xmx" + (HEAP >> 20) + "m", "-jar", jar.toString(), "serve",
                "--config", config.toString(), "--plugins-dir", plugins.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AtomicInteger port = new AtomicInteger();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            Matcher m = LISTENING.matcher(Files.readString(log));
            if (m.find()) {
                port.set(Integer.parseInt(m.group(1)));
            }
            return port.get() > 0 || !server.isAlive();
        });
        assertThat(port.get()).as(Files.readString(log)).isPositive();
        URI base = URI.create("http://127.0.0.1:" + port.get());
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> JdkHttp.send(http, 
                HttpRequest.newBuilder(base.resolve("/health/ready")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode() == 200);
        Responsiveness client = Responsiveness.of(base);
        Responsiveness.Sample idle = client.measure(200);

        // 1,000 connections, each declaring a body 100 bytes under the limit and sending all but its last byte
        int declared = MAX_BODY - 100;
        byte[] body = new byte[declared - 1];
        Arrays.fill(body, (byte) ' ');
        String head = "POST /iris/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + declared + "\r\n\r\n";
        List<RawConnection> attack = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        for (int i = 0; i < CONNECTIONS; i++) {
            pool.execute(() -> {
                try {
                    RawConnection c = RawConnection.open(port.get());
                    attack.add(c);
                    c.send(head);
                    c.send(body); // a refused connection fails here: it was answered 503 and closed
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
        assertThat(attack).hasSize(CONNECTIONS);

        // while they hold their bodies: the heap, the budget, and a well-behaved client
        long maxHeapUsed = 0;
        long maxHeld = 0;
        long budget = 0;
        for (int i = 0; i < 5; i++) {
            String metrics = JdkHttp.send(http, HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            maxHeapUsed = Math.max(maxHeapUsed, (long) sum(metrics, "jvm_memory_used_bytes{area=\"heap\""));
            maxHeld = Math.max(maxHeld, (long) sum(metrics, "mlserver_http_body_bytes_held"));
            budget = (long) sum(metrics, "mlserver_http_body_bytes_max");
            Thread.sleep(200);
        }
        // up to three samples while the bodies are held (their deadline is two minutes away): other builds on a
        // shared machine can stall one sample; an attack that really slows the gateway fails all three
        Responsiveness.Sample underAttack = client.measure(200);
        for (int i = 0; i < 2 && underAttack.p99Millis() > Responsiveness.boundMillis(idle); i++) {
            System.out.printf("client under attack %s, above its bound %.1f ms: measured again%n", underAttack,
                    Responsiveness.boundMillis(idle));
            underAttack = client.measure(200);
        }
        int refused = 0;
        int held = 0;
        for (RawConnection c : attack) {
            Optional<RawHttp.Response> answer = c.read(20);
            if (answer.isPresent()) {
                assertThat(answer.get().status()).isEqualTo(503);
                refused++;
            } else {
                held++;
            }
        }
        String text = Files.readString(log);
        System.out.printf("-Xmx%dm, %d connections with %d-byte bodies unfinished: heap used at most %.1f MiB; body bytes"
                        + " held at most %.1f MiB of a %.1f MiB budget; %d answered 503 at once, %d still held (or reset);"
                        + " client idle %s, under attack %s (bound %.1f ms)%n",
                HEAP >> 20, CONNECTIONS, declared, maxHeapUsed / 1048576.0, maxHeld / 1048576.0, budget / 1048576.0,
                refused, held, idle, underAttack, Responsiveness.boundMillis(idle));
        attack.forEach(RawConnection::close);

        assertThat(server.isAlive()).as(text).isTrue();
        assertThat(text).doesNotContain("OutOfMemoryError");
        assertThat(maxHeapUsed).isLessThan(HEAP);
        assertThat(maxHeld).isLessThanOrEqualTo(budget);
        assertThat(underAttack.failed()).isEmpty();
        assertThat(underAttack.p99Millis()).isLessThanOrEqualTo(Responsiveness.boundMillis(idle));
        assertThat(JdkHttp.send(http, HttpRequest.newBuilder(base.resolve("/health/live")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

        server.toHandle().destroy();
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).as(Files.readString(log)).isZero();
    }

    /** The sum of every series whose line starts with {@code prefix}. */
    static double sum(String metrics, String prefix) {
        return metrics.lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
