package dev.mlserver.gateway.registry;

import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ONNX Runtime threads the classifiers may keep busy at once, against the cores. Each
 * classifier runs at most {@code max_concurrent_predictions} predictions, each on its own
 * worker thread; with {@code onnx.intra_op_threads: 1} (the default) a prediction's operators
 * run on that thread alone, so more predictions than cores only take turns, as any threads do.
 * With {@code intra_op_threads} above 1 every prediction's operators run in parallel, and past
 * the cores those parallel threads wait for each other: latency grows for every classifier.
 * That is what is counted, and what the advice fixes: it names {@code onnx.intra_op_threads}
 * and the value that fits. {@code onnx.cpu_budget} says whether going over is logged
 * ({@code warn}: once per change of the verdict, not at every load), refused ({@code refuse})
 * or ignored ({@code off}).
 */
public final class CpuBudget {
    private static final Logger LOG = LoggerFactory.getLogger(CpuBudget.class);

    private final GatewayConfig.Onnx onnx;
    /** The last warning logged; empty while the classifiers fit. */
    private String warned = "";

    CpuBudget(GatewayConfig.Onnx onnx) {
        this.onnx = onnx;
    }

    /**
     * The advice for {@code classifiers} served together with {@code onnx}: empty when they fit
     * (or the check is off), else what goes over and the {@code intra_op_threads} value that fits.
     */
    public static Optional<String> advice(GatewayConfig.Onnx onnx, Collection<ClassifierInfo> classifiers) {
        int threads = onnx.intraOpThreads();
        if (onnx.cpuBudget() == GatewayConfig.CpuBudgetMode.OFF || threads <= 1 || classifiers.isEmpty()) {
            return Optional.empty();
        }
        int predictions = classifiers.stream().mapToInt(c -> c.limits().maxConcurrentPredictions()).sum();
        int cores = onnx.cores();
        if (predictions * threads <= cores) {
            return Optional.empty();
        }
        int fits = Math.max(1, cores / predictions);
        return Optional.of("CPU budget: " + predictions + " prediction(s) may run at once (max_concurrent_predictions over "
                + classifiers.size() + " classifier version(s)), each on onnx.intra_op_threads " + threads + " threads: "
                + predictions * threads + " threads for " + cores + " core(s). Set onnx.intra_op_threads: " + fits
                + " to fit");
    }

    /**
     * Checks {@code candidate} joining {@code serving} (without what it replaces). Empty when it
     * may serve; the reason when {@code onnx.cpu_budget: refuse} turns it away.
     */
    Optional<String> check(ClassifierInfo candidate, Collection<LoadedClassifier> serving) {
        if (onnx.cpuBudget() != GatewayConfig.CpuBudgetMode.REFUSE) {
            return Optional.empty();
        }
        List<ClassifierInfo> all = new ArrayList<>();
        serving.stream().map(LoadedClassifier::info).forEach(all::add);
        all.add(candidate);
        return advice(onnx, all).map(a -> candidate.name() + " " + candidate.version() + " not loaded: " + a
                + ", or set onnx.cpu_budget: warn to serve anyway");
    }

    /** Logs the advice for what serves now, when it differs from the last one logged. Call under the registry's lock. */
    void served(Collection<LoadedClassifier> serving) {
        if (onnx.cpuBudget() != GatewayConfig.CpuBudgetMode.WARN) {
            return;
        }
        String now = advice(onnx, serving.stream().map(LoadedClassifier::info).toList()).orElse("");
        if (!now.isEmpty() && !now.equals(warned)) {
            LOG.warn("{}; serving anyway (onnx.cpu_budget: warn)", now);
        }
        warned = now;
    }
}
