package dev.mlserver.gateway.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Prediction requests of the last minute, per classifier: counts and a latency histogram in
 * one-second slots. What the console and {@code /status} show; kept apart from the Prometheus
 * metrics so it answers "how is it doing right now" without a scrape.
 *
 * <p>Latencies fall into logarithmic buckets four to a doubling, so a reported percentile is
 * within 9 % of the true one.
 */
final class RecentRequests {
    static final int SECONDS = 60;
    static final int BUCKETS = 128;
    private static final double PER_DOUBLING = 4.0;

    private final Map<String, Window> windows = new ConcurrentHashMap<>();
    private final LongSupplier clockMillis;

    RecentRequests() {
        this(System::currentTimeMillis);
    }

    RecentRequests(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    /** Records one finished prediction request. */
    void record(String classifier, int status, long nanos) {
        windows.computeIfAbsent(classifier, k -> new Window()).record(clockMillis.getAsLong() / 1000, status, nanos);
    }

    /** The last minute of {@code classifier}; all zeros when it had no requests. */
    Summary summary(String classifier) {
        Window window = windows.get(classifier);
        return window == null ? Summary.EMPTY : window.summary(clockMillis.getAsLong() / 1000);
    }

    /**
     * @param p50Ms median latency in milliseconds, NaN without requests
     * @param p99Ms 99th percentile latency in milliseconds, NaN without requests
     */
    record Summary(long requests, long clientErrors, long serverErrors, double p50Ms, double p99Ms) {
        static final Summary EMPTY = new Summary(0, 0, 0, Double.NaN, Double.NaN);

        double ratePerSecond() {
            return requests / (double) SECONDS;
        }
    }

    static int bucket(long nanos) {
        double micros = Math.max(1.0, nanos / 1000.0);
        return (int) Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / Math.log(2) * PER_DOUBLING));
    }

    /** The geometric middle of a bucket, in milliseconds. */
    static double bucketMillis(int bucket) {
        return Math.pow(2, (bucket + 0.5) / PER_DOUBLING) / 1000.0;
    }

    private static final class Window {
        private final long[] second = new long[SECONDS];
        private final long[] requests = new long[SECONDS];
        private final long[] clientErrors = new long[SECONDS];
        private final long[] serverErrors = new long[SECONDS];
        private final long[][] latency = new long[SECONDS][BUCKETS];

        synchronized void record(long now, int status, long nanos) {
            int slot = (int) Math.floorMod(now, (long) SECONDS);
            if (second[slot] != now) {
                second[slot] = now;
                requests[slot] = 0;
                clientErrors[slot] = 0;
                serverErrors[slot] = 0;
                java.util.Arrays.fill(latency[slot], 0);
            }
            requests[slot]++;
            if (status >= 500) {
                serverErrors[slot]++;
            } else if (status >= 400) {
                clientErrors[slot]++;
            }
            latency[slot][bucket(nanos)]++;
        }

        synchronized Summary summary(long now) {
            long total = 0;
            long client = 0;
            long server = 0;
            long[] histogram = new long[BUCKETS];
            for (int slot = 0; slot < SECONDS; slot++) {
                if (second[slot] > now - SECONDS && second[slot] <= now) {
                    total += requests[slot];
                    client += clientErrors[slot];
                    server += serverErrors[slot];
                    for (int b = 0; b < BUCKETS; b++) {
                        histogram[b] += latency[slot][b];
                    }
                }
            }
            if (total == 0) {
                return Summary.EMPTY;
            }
            return new Summary(total, client, server, percentile(histogram, total, 0.50), percentile(histogram, total, 0.99));
        }

        private static double percentile(long[] histogram, long total, double q) {
            long rank = Math.max(1, (long) Math.ceil(q * total));
            long seen = 0;
            for (int b = 0; b < BUCKETS; b++) {
                seen += histogram[b];
                if (seen >= rank) {
                    return bucketMillis(b);
                }
            }
            return bucketMillis(BUCKETS - 1);
        }
    }
}
