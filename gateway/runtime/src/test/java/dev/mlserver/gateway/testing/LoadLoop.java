package dev.mlserver.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A bounded closed-loop load: a few threads, each sending one prediction after another until
 * stopped. It records every answer and checks versions as it goes: a thread never sees an older
 * version than it saw before, and no request sent after any response named a version gets an
 * older one.
 */
public final class LoadLoop implements AutoCloseable {
    /** Orders dotted versions numerically: 1.0.10 after 1.0.9. */
    public static final Comparator<String> VERSIONS = Comparator.comparing(LoadLoop::parts, Arrays::compare);

    /** One answer: its status (-1 for an I/O failure), the version it named, and its body. */
    public record Answer(int status, String version, String body) {}

    private final TestGateway gateway;
    private final HttpRequest request;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicReference<String> newestSeen = new AtomicReference<>();
    private final long maxRequests;

    private LoadLoop(TestGateway gateway, String path, String body, int threadCount, long maxRequests) {
        this.gateway = gateway;
        this.maxRequests = maxRequests;
        this.request = HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
        for (int i = 0; i < threadCount; i++) {
            Thread t = new Thread(this::loop, "load-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    /** Starts {@code threads} loops POSTing {@code body} to {@code path}, at most {@code maxRequests} in all. */
    public static LoadLoop start(TestGateway gateway, String path, String body, int threads, long maxRequests) {
        LoadLoop load = new LoadLoop(gateway, path, body, threads, maxRequests);
        load.threads.forEach(Thread::start);
        return load;
    }

    private void loop() {
        String lastSeen = null;
        while (running.get() && answers.size() < maxRequests) {
            String floor = newestSeen.get();
            Answer answer;
            try {
                HttpResponse<String> response = gateway.client().send(request, HttpResponse.BodyHandlers.ofString());
                String version = null;
                if (response.statusCode() == 200) {
                    JsonNode json = TestGateway.json(response);
                    version = json.path("metadata").path("version").asText(null);
                }
                answer = new Answer(response.statusCode(), version, response.body());
            } catch (Exception e) {
                answer = new Answer(-1, null, e.toString());
            }
            answers.add(answer);
            String v = answer.version();
            if (v == null) {
                continue;
            }
            if (lastSeen != null && VERSIONS.compare(v, lastSeen) < 0) {
                violations.add(Thread.currentThread().getName() + " saw " + v + " after " + lastSeen);
            }
            if (floor != null && VERSIONS.compare(v, floor) < 0) {
                violations.add("a request sent after a response named " + floor + " got " + v);
            }
            lastSeen = v;
            newestSeen.accumulateAndGet(v, (a, b) -> a == null || VERSIONS.compare(b, a) > 0 ? b : a);
        }
    }

    /** The newest version any response has named so far. */
    public String newestSeen() {
        return newestSeen.get();
    }

    public int answered() {
        return answers.size();
    }

    /** Stops the loops, waits for their last requests, and returns every answer. */
    public List<Answer> stop() {
        running.set(false);
        for (Thread t : threads) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return List.copyOf(answers);
    }

    /** Versions that went backwards, for a thread or after any response. */
    public List<String> violations() {
        return List.copyOf(violations);
    }

    @Override
    public void close() {
        stop();
    }

    private static int[] parts(String version) {
        return Arrays.stream(version.split("[.-]")).mapToInt(p -> {
            try {
                return Integer.parseInt(p);
            } catch (NumberFormatException e) {
                return 0;
            }
        }).toArray();
    }
}
