package dev.mlserver.gateway.http;

import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.registry.PluginStatus;
import java.util.List;

/**
 * The part of the inventory one caller may see: with tokens on, the classifiers its token may
 * call, and the plugin jars of those classifiers (a jar that never named its classifier only to
 * a token that may call every classifier). With tokens off, everything.
 */
final class Visible {
    private Visible() {}

    static List<LoadedClassifier> classifiers(ClassifierRegistry registry, Exchange caller) {
        return registry.serving().stream().filter(c -> caller.sees(c.info().name())).toList();
    }

    static List<PluginStatus> plugins(ClassifierRegistry registry, Exchange caller) {
        return registry.statuses().stream()
                .filter(s -> caller.seesAll() || (s.classifier() != null && caller.sees(s.classifier())))
                .toList();
    }
}
