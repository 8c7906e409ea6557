package dev.mlserver.gateway.registry;

import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ONNX Runtime threads the classifiers may run at once, against the cores: each classifier can
 * run {@code max_concurrent_predictions} predictions of {@code intra_op_threads} threads each.
 * Past the cores, one classifier's load raises every other's latency. {@code onnx.cpu_budget}
 * says whether that is logged ({@code warn}), refused ({@code refuse}) or ignored ({@code off}).
 */
final class CpuBudget {
    private static final Logger LOG = LoggerFactory.getLogger(CpuBudget.class);

    private final GatewayConfig.Onnx onnx;

    CpuBudget(GatewayConfig.Onnx onnx) {
        this.onnx = onnx;
    }

    /** Threads one classifier may keep busy. */
    int demand(ClassifierInfo info) {
        return onnx.intraOpThreads() * info.limits().maxConcurrentPredictions();
    }

    /**
     * Checks {@code candidate} joining {@code serving} (without what it replaces): every version
     * loaded has its own bulkhead, so each one counts. Empty when it may serve; the reason when it is refused.
     */
    Optional<String> check(ClassifierInfo candidate, Collection<LoadedClassifier> serving) {
        if (onnx.cpuBudget() == GatewayConfig.CpuBudgetMode.OFF) {
            return Optional.empty();
        }
        List<ClassifierInfo> others = serving.stream().map(LoadedClassifier::info)
                .toList();
        int total = demand(candidate) + others.stream().mapToInt(this::demand).sum();
        int cores = onnx.cores();
        if (total <= cores) {
            LOG.info("CPU budget: {} ONNX threads of {} cores in use with {} {}", total, cores, candidate.name(),
                    candidate.version());
            return Optional.empty();
        }
        String message = "CPU budget exceeded: " + candidate.name() + " " + candidate.version() + " may run "
                + demand(candidate) + " ONNX threads (intra_op_threads " + onnx.intraOpThreads()
                + " x max_concurrent_predictions " + candidate.limits().maxConcurrentPredictions() + ")"
                + (others.isEmpty() ? "" : ", the classifiers serving already "
                        + others.stream().map(i -> i.name() + " " + demand(i)).collect(Collectors.joining(", ")))
                + ": " + total + " threads for " + cores + " cores. Lower max_concurrent_predictions or"
                + " onnx.intra_op_threads";
        if (onnx.cpuBudget() == GatewayConfig.CpuBudgetMode.REFUSE) {
            return Optional.of(message + ", or set onnx.cpu_budget: warn to serve anyway");
        }
        LOG.warn("{}; serving anyway (onnx.cpu_budget: warn)", message);
        return Optional.empty();
    }
}
