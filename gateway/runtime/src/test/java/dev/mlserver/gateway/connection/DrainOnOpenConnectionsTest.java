package dev.mlserver.gateway.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.testing.RawConnection;
import dev.mlserver.gateway.testing.RawHttp;
import dev.mlserver.gateway.testing.Responsiveness;
import dev.mlserver.gateway.testing.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shutdown (what SIGTERM starts) with keep-alive connections open: a request sent on one of them
 * after the signal gets an answer, 503 {@code draining} with {@code Connection: close}, never
 * silence; the connection closes after it.
 */
class DrainOnOpenConnectionsTest {
    static final String PREDICT = "POST /iris/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: " + Responsiveness.IRIS.length() + "\r\n\r\n" + Responsiveness.IRIS;

    @TempDir
    Path plugins;

    @Test
    void requestsOnOpenKeepAliveConnectionsAfterTheSignalAreAnswered() throws Exception {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        TestGateway gateway = TestGateway.start(plugins, """
                plugins:
                  watch: false
                shutdown:
                  grace_period_ms: 0
                  drain_timeout_ms: 5000
                """);
        List<RawConnection> connections = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            RawConnection c = RawConnection.open(gateway.port());
            c.send(PREDICT);
            assertThat(c.read(5000).orElseThrow().status()).isEqualTo(200);
            connections.add(c);
        }
        Thread stopping = new Thread(gateway::close, "sigterm");
        stopping.start();
        while (!gateway.gateway().draining()) {
            Thread.sleep(1);
        }
        long drainSeen = System.nanoTime();
        // half at once, half a while later: all sent inside the second an idle connection is kept
        // while draining. Every request is sent before any answer is read, and the wait is
        // counted from the drain's start: 40 answers read one after another on a loaded machine
        // would themselves eat into that second.
        int half = connections.size() / 2;
        connections.subList(0, half).forEach(c -> c.send(PREDICT));
        long later = drainSeen + TimeUnit.MILLISECONDS.toNanos(ConnectionGuard.DRAIN_IDLE_MILLIS / 4);
        TimeUnit.NANOSECONDS.sleep(Math.max(0, later - System.nanoTime()));
        connections.subList(half, connections.size()).forEach(c -> c.send(PREDICT));
        List<Optional<RawHttp.Response>> answers = new ArrayList<>();
        for (RawConnection c : connections) {
            answers.add(c.read(10_000));
        }
        long drained = 0;
        for (int i = 0; i < connections.size(); i++) {
            Optional<RawHttp.Response> answer = answers.get(i);
            assertThat(answer).as("connection %d got an answer", i).isPresent();
            RawHttp.Response response = answer.get();
            assertThat(response.header("connection")).isEqualToIgnoringCase("close");
            if (response.status() == 503) {
                assertThat(response.bodyText()).contains("\"draining\"");
                assertThat(response.header("retry-after")).isNotNull();
                drained++;
            } else {
                assertThat(response.status()).as(response.bodyText()).isEqualTo(200);
            }
            assertThat(connections.get(i).closedByServer(5000)).isTrue();
            connections.get(i).close();
        }
        stopping.join(30_000);
        assertThat(stopping.isAlive()).isFalse();
        System.out.printf("%d requests on open connections after the signal: %d answered 503 draining, %d answered 200,"
                + " none unanswered%n", connections.size(), drained, connections.size() - drained);
        assertThat(drained).isPositive();
    }

    @Test
    void anIdleConnectionClosesOnceIdleDuringTheDrainNotAtItsLastRequestsHeaderDeadline() throws Exception {
        Files.copy(TestGateway.examplePlugins().resolve("iris.jar"), plugins.resolve("iris.jar"));
        TestGateway gateway = TestGateway.start(plugins, """
                server:
                  header_timeout_ms: 120000
                plugins:
                  watch: false
                shutdown:
                  grace_period_ms: 0
                  drain_timeout_ms: 120000
                """);
        RawConnection c = RawConnection.open(gateway.port());
        c.send(PREDICT);
        assertThat(c.read(5000).orElseThrow().status()).isEqualTo(200);
        Thread stopping = new Thread(gateway::close, "sigterm");
        stopping.start();
        // the drain closes it after a second of idleness; the last request's header deadline is two minutes away
        assertThat(c.closedByServer(60_000)).as("closed by the drain, long before the header deadline").isTrue();
        c.close();
        stopping.join(60_000);
        assertThat(stopping.isAlive()).as("the stop waited for nothing else").isFalse();
    }
}
