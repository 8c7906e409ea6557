package dev.mlserver.gateway.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A well-behaved client's latency: sequential predictions on one keep-alive connection, measured
 * once the gateway is warm. Compare a sample taken during an attack with one taken idle in the same
 * test: {@link #assertWithin} allows three times the idle p99, the idle p99 plus 50 ms, or one and a
 * half times the idle maximum, whichever is largest, so that a loaded 2-core machine passes; and no
 * failure at all.
 */
public final class Responsiveness {
    public static final String IRIS = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    /** One sample: p99 and maximum in milliseconds, and how many requests did not get a 200. */
    public record Sample(double p99Millis, double maxMillis, int requests, int failures, List<String> failed) {
        @Override
        public String toString() {
            return String.format("p99 %.1f ms, max %.1f ms, %d requests, %d failures", p99Millis, maxMillis, requests,
                    failures);
        }
    }

    private final HttpClient client;
    private final HttpRequest predict;

    private Responsiveness(HttpClient client, URI uri, String body) {
        this.client = client;
        this.predict = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
    }

    /** A client predicting iris; warmed up with 200 requests. */
    public static Responsiveness of(TestGateway gateway) {
        Responsiveness client = new Responsiveness(gateway.client(), gateway.uri("/iris/predict"), IRIS);
        client.measure(200);
        return client;
    }

    /** A client predicting iris at {@code base} (a gateway in another process); warmed up with 200 requests. */
    public static Responsiveness of(URI base) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        Responsiveness client = new Responsiveness(http, base.resolve("/iris/predict"), IRIS);
        client.measure(200);
        return client;
    }

    /** Sends {@code requests} predictions one after another and times each. */
    public Sample measure(int requests) {
        double[] millis = new double[requests];
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            long start = System.nanoTime();
            try {
                HttpResponse<String> response = JdkHttp.send(client, predict);
                if (response.statusCode() != 200) {
                    failed.add(response.statusCode() + " " + response.body());
                }
            } catch (Exception e) {
                failed.add(e.toString());
            }
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        double p99 = millis[Math.min(requests - 1, (int) Math.ceil(requests * 0.99) - 1)];
        return new Sample(p99, millis[requests - 1], requests, failed.size(), failed);
    }

    /** The bound a sample under attack must meet, from an idle one. */
    public static double boundMillis(Sample idle) {
        // a busy machine's own stalls show in the idle sample's maximum: an attack may not make the
        // tail worse than three times the idle p99, nor than half again the worst the machine did idle
        return Math.max(Math.max(3 * idle.p99Millis(), idle.p99Millis() + 50), 1.5 * idle.maxMillis());
    }
}
