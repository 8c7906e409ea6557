package dev.mlserver.gateway.versions;

import dev.mlserver.gateway.config.ClassifierSettings;
import dev.mlserver.gateway.config.ClassifierSettings.Routing;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.ClassifierVersions;
import dev.mlserver.gateway.registry.LoadedClassifier;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * Which loaded version answers a classifier's unpinned routes: its default, or for a weighted
 * share its canary. The routing of every classifier is one immutable map, swapped whole when the
 * config is reloaded or an admin route changes it; a request reads it once.
 */
public final class Traffic {
    /** What a loaded version does. */
    public enum Role {
        /** answers the unpinned routes */
        DEFAULT,
        /** answers a weighted share of the unpinned routes */
        CANARY,
        /** sees a copy of a sample of the unpinned routes, never answers them */
        SHADOW,
        /** reachable only by its pinned routes, {@code /<classifier>/versions/<version>/...} */
        PINNED;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final ClassifierRegistry registry;
    private volatile Map<String, Routing> routing = Map.of();

    private Traffic(ClassifierRegistry registry) {
        this.registry = registry;
    }

    public static Traffic create(ClassifierRegistry registry, GatewayConfig.Classifiers classifiers) {
        Traffic traffic = new Traffic(registry);
        traffic.apply(classifiers);
        return traffic;
    }

    /** Makes the routing of {@code classifiers} the routing in effect, in one step. */
    public synchronized void apply(GatewayConfig.Classifiers classifiers) {
        Map<String, Routing> next = new HashMap<>();
        classifiers.byName().forEach((name, settings) -> next.put(name, settings.routing()));
        install(next);
    }

    /** Changes the routing of one classifier; the others keep theirs. Returns the new routing. */
    public synchronized Routing update(String name, UnaryOperator<Routing> change) {
        Map<String, Routing> next = new HashMap<>(routing);
        Routing changed = change.apply(routing(name));
        next.put(name, changed);
        install(next);
        return changed;
    }

    private void install(Map<String, Routing> next) {
        Map<String, String> pins = new HashMap<>();
        next.forEach((name, r) -> {
            if (!r.defaultVersion().isBlank()) {
                pins.put(name, r.defaultVersion());
            }
        });
        routing = Map.copyOf(next);
        registry.pinDefaults(pins);
    }

    /** The routing of {@code name} in effect now. */
    public Routing routing(String name) {
        Routing r = routing.get(name);
        return r != null ? r : Routing.NONE;
    }

    /** The routing of every classifier that has one, by name. */
    public Map<String, Routing> all() {
        return routing;
    }

    /**
     * The version that answers one unpinned request, entered (pair it with
     * {@link LoadedClassifier#leave}): the default, or the canary for its share. With a sticky
     * header, the header's value decides, so one caller always reaches the same version.
     *
     * @param headers the request's headers by name; null when absent
     */
    public Optional<LoadedClassifier> enter(String name, UnaryOperator<String> headers) {
        Routing r = routing(name);
        if (!r.canary().enabled()) {
            return registry.enter(name);
        }
        return ClassifierRegistry.enter(() -> registry.versions(name).map(v -> choose(v, r.canary(), headers)));
    }

    private static LoadedClassifier choose(ClassifierVersions versions, ClassifierSettings.Canary canary,
                                           UnaryOperator<String> headers) {
        LoadedClassifier main = versions.defaultVersion();
        LoadedClassifier candidate = versions.find(canary.version()).orElse(main);
        if (candidate == main) {
            return main;
        }
        String caller = canary.stickyHeader().isEmpty() ? null : headers.apply(canary.stickyHeader());
        int bucket = caller == null ? ThreadLocalRandom.current().nextInt(100) : bucket(versions.name(), caller);
        return bucket < canary.weight() ? candidate : main;
    }

    /** A caller's fixed bucket, 0 to 99, for one classifier. */
    static int bucket(String classifier, String caller) {
        long h = classifier.hashCode() * 0x9E3779B97F4A7C15L + caller.hashCode();
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) Math.floorMod(h, 100L);
    }

    /** The role of a loaded version now. */
    public Role role(LoadedClassifier c) {
        String name = c.info().name();
        String version = c.info().version();
        if (registry.find(name).orElse(null) == c) {
            return Role.DEFAULT;
        }
        Routing r = routing(name);
        if (r.canary().enabled() && r.canary().version().equals(version)) {
            return Role.CANARY;
        }
        if (r.shadow().enabled() && r.shadow().version().equals(version)) {
            return Role.SHADOW;
        }
        return Role.PINNED;
    }
}
