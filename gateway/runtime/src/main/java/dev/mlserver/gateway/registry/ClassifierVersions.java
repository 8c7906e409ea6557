package dev.mlserver.gateway.registry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The versions of one classifier loaded now, lowest first, and the one that answers its
 * unpinned routes: {@code pinnedDefault} when it is loaded, else the highest. Immutable: the
 * registry swaps a new value in when a version comes or goes, or the default is changed.
 *
 * @param pinnedDefault the version the operator made the default; empty for the highest
 */
public record ClassifierVersions(String name, List<LoadedClassifier> all, String pinnedDefault) {
    private static final Comparator<LoadedClassifier> ORDER = Comparator.comparing(c -> c.info().version(),
            VersionOrder.ASCENDING);

    public ClassifierVersions {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pinnedDefault, "pinnedDefault");
        all = all.stream().sorted(ORDER).toList();
        if (all.isEmpty()) {
            throw new IllegalArgumentException(name + ": at least one version");
        }
    }

    /** The version unpinned routes answer with. */
    public LoadedClassifier defaultVersion() {
        return find(pinnedDefault).orElse(all.get(all.size() - 1));
    }

    public Optional<LoadedClassifier> find(String version) {
        for (LoadedClassifier c : all) {
            if (c.info().version().equals(version)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** These versions with {@code c} added, or in place of the same version. */
    ClassifierVersions with(LoadedClassifier c) {
        List<LoadedClassifier> next = new ArrayList<>(all);
        next.removeIf(o -> o.info().version().equals(c.info().version()));
        next.add(c);
        return new ClassifierVersions(name, next, pinnedDefault);
    }

    /** These versions without {@code c}; empty when it was the last. */
    Optional<ClassifierVersions> without(LoadedClassifier c) {
        List<LoadedClassifier> next = new ArrayList<>(all);
        next.remove(c);
        return next.isEmpty() ? Optional.empty() : Optional.of(new ClassifierVersions(name, next, pinnedDefault));
    }

    ClassifierVersions withPinnedDefault(String version) {
        return new ClassifierVersions(name, all, version);
    }
}
