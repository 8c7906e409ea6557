package dev.mlserver.gateway.versions;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Prediction;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.ClassifierSettings;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Shadow traffic: after a caller has been answered by a classifier's unpinned route, a sample of
 * those requests runs again on its shadow version, through that version's own bulkhead, and
 * the two answers are compared. Nothing here can delay or fail the caller: the copy is taken
 * after the answer is written, at most {@code shadow.max_queue} copies wait or run at once, and
 * a copy beyond that, or refused by the shadow's bulkhead, is dropped and counted.
 *
 * <p>A pair's counts, and its series in {@code /metrics}, last as long as both its versions are
 * loaded: when either retires, the pair is {@link #retired forgotten}, as the gateway's other
 * series of a retired version are.
 */
public final class ShadowMirror {
    /** How a copy ended. */
    public enum Outcome {
        AGREE, DISAGREE, ERROR, DROPPED;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The buckets of the largest probability difference between the two answers. */
    static final double[] DIFFERENCES = {0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0};

    private final ClassifierRegistry registry;
    private final Traffic traffic;
    private final MeterRegistry meters;
    private final Map<String, AtomicInteger> pending = new ConcurrentHashMap<>();
    private final Map<Pair, Comparisons> comparisons = new ConcurrentHashMap<>();

    /** One primary version compared with one shadow version of a classifier. */
    public record Pair(String classifier, String primary, String shadow) {
        public Pair {
            Objects.requireNonNull(classifier, "classifier");
            Objects.requireNonNull(primary, "primary");
            Objects.requireNonNull(shadow, "shadow");
        }
    }

    /** The comparisons of one pair so far. */
    public static final class Comparisons {
        private final AtomicLongArray counts = new AtomicLongArray(Outcome.values().length);
        private final Counter[] counters = new Counter[Outcome.values().length];
        private final DistributionSummary difference;

        private Comparisons(Pair pair, MeterRegistry meters) {
            for (Outcome o : Outcome.values()) {
                counters[o.ordinal()] = Counter.builder("mlserver_shadow_comparisons")
                        .description("Requests copied to a shadow version, by how the two answers compared")
                        .tags("classifier", pair.classifier(), "primary", pair.primary(), "shadow", pair.shadow(),
                                "outcome", o.wire())
                        .register(meters);
            }
            difference = DistributionSummary.builder("mlserver_shadow_probability_difference")
                    .description("Largest difference of one label's probability between the primary and the shadow answer")
                    .tags("classifier", pair.classifier(), "primary", pair.primary(), "shadow", pair.shadow())
                    .serviceLevelObjectives(DIFFERENCES)
                    .register(meters);
        }

        private void unregister(MeterRegistry meters) {
            for (Counter counter : counters) {
                meters.remove(counter);
            }
            meters.remove(difference);
        }

        void count(Outcome outcome) {
            counts.incrementAndGet(outcome.ordinal());
            counters[outcome.ordinal()].increment();
        }

        public long of(Outcome outcome) {
            return counts.get(outcome.ordinal());
        }

        /** Agreeing answers among those compared (agree or disagree); NaN before the first. */
        public double agreementRate() {
            long agree = of(Outcome.AGREE);
            long compared = agree + of(Outcome.DISAGREE);
            return compared == 0 ? Double.NaN : (double) agree / compared;
        }
    }

    private ShadowMirror(ClassifierRegistry registry, Traffic traffic, MeterRegistry meters) {
        this.registry = registry;
        this.traffic = traffic;
        this.meters = meters;
    }

    public static ShadowMirror create(ClassifierRegistry registry, Traffic traffic, MeterRegistry meters) {
        return new ShadowMirror(registry, traffic, meters);
    }

    /**
     * Called once the caller has been answered by {@code primary} on an unpinned route: copies a
     * sample of these requests to the shadow version. Returns at once; call it on an event loop.
     */
    public void answered(LoadedClassifier primary, List<JsonNode> instances, List<Prediction> predictions) {
        ClassifierSettings.Shadow shadow = traffic.routing(primary.info().name()).shadow();
        if (!shadow.enabled() || shadow.version().equals(primary.info().version())
                || (shadow.sample() < 100 && ThreadLocalRandom.current().nextInt(100) >= shadow.sample())) {
            return;
        }
        String name = primary.info().name();
        LoadedClassifier candidate = ClassifierRegistry.enter(() -> registry.find(name, shadow.version())).orElse(null);
        if (candidate == null) {
            return; // the shadow version is not loaded (yet): nothing to compare with
        }
        Comparisons stats = comparisons(new Pair(name, primary.info().version(), shadow.version()));
        AtomicInteger queue = pending.computeIfAbsent(name, n -> new AtomicInteger());
        if (queue.incrementAndGet() > shadow.maxQueue()) {
            queue.decrementAndGet();
            candidate.leave();
            stats.count(Outcome.DROPPED);
            return;
        }
        candidate.bulkhead().submit(() -> candidate.classifier().predict(instances)).onComplete(result -> {
            queue.decrementAndGet();
            candidate.leave();
            if (result.succeeded()) {
                compare(stats, predictions, result.result());
            } else if (result.cause() instanceof GatewayException e && e.code() == ErrorCode.CLASSIFIER_SATURATED) {
                stats.count(Outcome.DROPPED);
            } else {
                stats.count(Outcome.ERROR);
            }
        });
    }

    private static void compare(Comparisons stats, List<Prediction> primary, List<Prediction> shadow) {
        if (shadow == null || shadow.size() != primary.size()) {
            stats.count(Outcome.ERROR);
            return;
        }
        boolean agree = true;
        double largest = 0;
        for (int i = 0; i < primary.size(); i++) {
            Prediction a = primary.get(i);
            Prediction b = shadow.get(i);
            if (b == null) {
                stats.count(Outcome.ERROR);
                return;
            }
            agree &= a.label().equals(b.label());
            largest = Math.max(largest, largestDifference(a, b));
        }
        stats.difference.record(largest);
        stats.count(agree ? Outcome.AGREE : Outcome.DISAGREE);
    }

    /** The largest difference of one label's probability; a label only one of them has counts as 0 in the other. */
    static double largestDifference(Prediction a, Prediction b) {
        double largest = 0;
        for (int i = 0; i < a.size(); i++) {
            int j = b.labels().indexOf(a.labels().get(i));
            largest = Math.max(largest, Math.abs(a.probability(i) - (j < 0 ? 0 : b.probability(j))));
        }
        for (int j = 0; j < b.size(); j++) {
            if (!a.labels().contains(b.labels().get(j))) {
                largest = Math.max(largest, b.probability(j));
            }
        }
        return largest;
    }

    private Comparisons comparisons(Pair pair) {
        Comparisons c = comparisons.get(pair);
        return c != null ? c : comparisons.computeIfAbsent(pair, p -> new Comparisons(p, meters));
    }

    /**
     * A version has retired (replaced, removed or unloaded, and drained): the pairs it was part of,
     * as primary or as shadow, are forgotten and their series removed. Copies of them still
     * running count nowhere; a later load of the same version starts its pairs from zero.
     */
    public void retired(ClassifierInfo info) {
        comparisons.entrySet().removeIf(e -> {
            Pair pair = e.getKey();
            boolean gone = pair.classifier().equals(info.name())
                    && (pair.primary().equals(info.version()) || pair.shadow().equals(info.version()));
            if (gone) {
                e.getValue().unregister(meters);
            }
            return gone;
        });
    }

    /** Every pair compared so far with its counts. */
    public Map<Pair, Comparisons> comparisons() {
        return Map.copyOf(comparisons);
    }

    /** Copies waiting or running for {@code classifier} now. */
    public int pending(String classifier) {
        AtomicInteger n = pending.get(classifier);
        return n == null ? 0 : n.get();
    }
}
