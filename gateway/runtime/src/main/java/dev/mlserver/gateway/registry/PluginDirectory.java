package dev.mlserver.gateway.registry;

import dev.mlserver.gateway.plugin.PluginLoader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugins directory, reconciled with the registry. A scan compares every {@code *.jar} with
 * what was last acted on: new and replaced jars are loaded (and swapped in), removed ones are
 * unloaded. Scans are serialised; the watcher, the admin route and the initial load share them.
 *
 * <p>A jar is acted on only once its size, modification time and file identity stayed the same
 * for the settle time, and only if they did not change while it was read, so a half-written file
 * is never loaded. A serving jar whose content did not change (a {@code touch}) is not reloaded;
 * a failed jar is retried whenever its file changes, a {@code touch} included.
 */
public final class PluginDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(PluginDirectory.class);

    private final Path dir;
    private final ClassifierRegistry registry;
    /** The fingerprint of each jar as it was when last loaded or found unchanged. */
    private final Map<String, Fingerprint> actedOn = new HashMap<>();
    /** Jars seen new or changed and waiting to settle: their fingerprint and when it was first seen. */
    private final Map<String, Sighting> settling = new HashMap<>();
    private boolean missingLogged;
    private volatile boolean closed;

    /** What a scan did. */
    public record Scan(List<PluginStatus> loaded, List<PluginStatus> failed, List<String> removed,
                       List<String> unchanged, List<String> settling) {
        public Scan {
            loaded = List.copyOf(loaded);
            failed = List.copyOf(failed);
            removed = List.copyOf(removed);
            unchanged = List.copyOf(unchanged);
            settling = List.copyOf(settling);
        }

        /** True when the scan loaded or removed anything. */
        public boolean changedAnything() {
            return !loaded.isEmpty() || !failed.isEmpty() || !removed.isEmpty();
        }
    }

    /** Size, modification time and file identity: what changes when a file is written or replaced. */
    record Fingerprint(long size, long modifiedNanos, Object fileKey) {}

    private record Sighting(Fingerprint fingerprint, long sinceMillis) {}

    /** A jar read and ready to load. */
    private record Load(String file, Fingerprint fingerprint, Path jar, byte[] bytes) {}

    public PluginDirectory(Path dir, ClassifierRegistry registry) {
        this.dir = dir;
        this.registry = registry;
    }

    public Path dir() {
        return dir;
    }

    /** Loads every jar present now, without waiting for them to settle, and marks the initial load done. Blocking. */
    public Scan initialLoad() {
        try {
            return scan(0);
        } finally {
            registry.initialLoadDone(true);
        }
    }

    /**
     * Reconciles the registry with the directory. Jars that changed less than
     * {@code settleMillis} ago wait for a later scan; 0 acts on everything now. Blocking.
     */
    public synchronized Scan scan(long settleMillis) {
        List<PluginStatus> loaded = new ArrayList<>();
        List<PluginStatus> failed = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        List<String> waiting = new ArrayList<>();
        Map<String, Fingerprint> present = closed ? null : list();
        if (present == null) {
            return new Scan(loaded, failed, removed, unchanged, waiting);
        }
        long now = System.nanoTime() / 1_000_000;
        List<Load> loads = new ArrayList<>();
        for (Map.Entry<String, Fingerprint> e : present.entrySet()) {
            String file = e.getKey();
            Fingerprint fingerprint = e.getValue();
            if (fingerprint.equals(actedOn.get(file))) {
                settling.remove(file);
                unchanged.add(file);
                continue;
            }
            if (settleMillis > 0) {
                Sighting seen = settling.get(file);
                if (seen == null || !seen.fingerprint().equals(fingerprint)) {
                    settling.put(file, new Sighting(fingerprint, now));
                    waiting.add(file);
                    continue;
                }
                if (now - seen.sinceMillis() < settleMillis) {
                    waiting.add(file);
                    continue;
                }
            }
            settling.remove(file);
            act(file, fingerprint, loads, failed, unchanged, waiting);
        }
        run(loads, loaded, failed);
        // while a jar is still settling, removals wait: it may be the same classifier under a new
        // name (a rename, or a new file copied in before the old one was deleted) and take over
        Set<String> gone = new TreeSet<>(actedOn.keySet());
        registry.statuses().forEach(s -> gone.add(s.jar()));
        gone.removeAll(present.keySet());
        for (String file : waiting.isEmpty() ? gone : Set.<String>of()) {
            remove(file, loaded, failed);
            removed.add(file);
        }
        settling.keySet().retainAll(present.keySet());
        Scan scan = new Scan(loaded, failed, removed, unchanged, waiting);
        if (scan.changedAnything()) {
            LOG.info("plugins {}: loaded {}, failed {}, removed {}", dir, names(loaded), names(failed), removed);
        }
        return scan;
    }

    /**
     * Loads the jars read by a scan, one thread per classifier: a jar that is slow to open delays
     * no other classifier (and each load has its own deadline). Jars of one classifier load one
     * after another in name order, so which of them serves does not depend on timing. Blocking
     * until all have ended.
     */
    private void run(List<Load> loads, List<PluginStatus> loaded, List<PluginStatus> failed) {
        Map<String, List<Load>> byClassifier = new TreeMap<>();
        for (Load load : loads) {
            String classifier = classifierOf(load.bytes()).orElse("jar " + load.file());
            byClassifier.computeIfAbsent(classifier, k -> new ArrayList<>()).add(load);
        }
        Map<Load, PluginStatus> results = new ConcurrentHashMap<>();
        List<CompletableFuture<Void>> running = new ArrayList<>();
        for (List<Load> group : byClassifier.values()) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    group.forEach(load -> results.put(load, registry.load(load.jar(), load.bytes())));
                    done.complete(null);
                } catch (Throwable e) {
                    done.completeExceptionally(e);
                }
            }, "mlserver-scan-" + group.get(0).file());
            thread.setDaemon(true);
            thread.start();
            running.add(done);
        }
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        for (Load load : loads) {
            PluginStatus status = results.get(load);
            actedOn.put(load.file(), load.fingerprint());
            (status.state() == PluginStatus.State.READY ? loaded : failed).add(status);
        }
    }

    /** The Plugin-Id in a jar's manifest, when it can be read. */
    private static Optional<String> classifierOf(byte[] jar) {
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
            Manifest manifest = in.getManifest();
            return Optional.ofNullable(manifest == null ? null : manifest.getMainAttributes().getValue("Plugin-Id"));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private void act(String file, Fingerprint fingerprint, List<Load> loads, List<PluginStatus> failed,
                     List<String> unchanged, List<String> waiting) {
        Path jar = dir.resolve(file);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(jar);
        } catch (NoSuchFileException e) {
            return; // gone since listed: the next scan removes it
        } catch (IOException e) {
            PluginStatus status = registry.load(jar);
            actedOn.put(file, fingerprint);
            failed.add(status);
            return;
        }
        if (!fingerprint.equals(fingerprint(jar))) {
            // written while read: wait for it to settle again
            waiting.add(file);
            return;
        }
        String sha256 = PluginLoader.sha256(bytes);
        PluginStatus before = registry.statuses().stream().filter(s -> s.jar().equals(file)).findFirst().orElse(null);
        if (before != null && before.state() == PluginStatus.State.READY && servedFrom(file, sha256)) {
            actedOn.put(file, fingerprint);
            unchanged.add(file);
            return;
        }
        loads.add(new Load(file, fingerprint, jar, bytes));
    }

    /**
     * Unloads a jar that left the directory. A jar refused because this one served the same
     * classifier version is tried first, so that a renamed jar takes over without a gap.
     */
    private void remove(String file, List<PluginStatus> loaded, List<PluginStatus> failed) {
        PluginStatus gone = registry.statuses().stream().filter(s -> s.jar().equals(file)).findFirst().orElse(null);
        actedOn.remove(file);
        settling.remove(file);
        if (gone != null && gone.classifier() != null && servedFrom(file, null)) {
            for (PluginStatus other : registry.statuses()) {
                if (other.state() == PluginStatus.State.FAILED && gone.classifier().equals(other.classifier())
                        && Objects.equals(gone.version(), other.version())
                        && !other.jar().equals(file) && Files.isRegularFile(dir.resolve(other.jar()))) {
                    Fingerprint fingerprint = fingerprint(dir.resolve(other.jar()));
                    if (fingerprint != null) {
                        actedOn.remove(other.jar());
                        List<Load> takeOver = new ArrayList<>();
                        act(other.jar(), fingerprint, takeOver, failed, new ArrayList<>(), new ArrayList<>());
                        run(takeOver, loaded, failed);
                        if (!servedFrom(file, null)) {
                            break;
                        }
                    }
                }
            }
        }
        registry.remove(file);
    }

    /** Ends scanning for good: later scans do nothing. A scan in progress ends with its loads (see {@link ClassifierRegistry#stopLoading}). */
    public void close() {
        closed = true;
    }

    /** Whether a classifier is served from {@code file} (with this content, unless null). */
    private boolean servedFrom(String file, String sha256) {
        return registry.serving().stream().anyMatch(c -> c.info().jar().getFileName().toString().equals(file)
                && (sha256 == null || sha256.equals(c.info().jarSha256())));
    }

    /** The jars in the directory with their fingerprints, by name; null when the directory cannot be read. */
    private Map<String, Fingerprint> list() {
        if (!Files.isDirectory(dir)) {
            if (!missingLogged) {
                LOG.warn("plugins directory {} does not exist; nothing loaded or unloaded until it does", dir.toAbsolutePath());
                missingLogged = true;
            }
            return null;
        }
        missingLogged = false;
        Map<String, Fingerprint> jars = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(".jar")).forEach(p -> {
                Fingerprint f = fingerprint(p);
                if (f != null) {
                    jars.put(p.getFileName().toString(), f);
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.error("cannot list {}: {}", dir, e.toString());
            return null;
        }
        return jars;
    }

    private static Fingerprint fingerprint(Path jar) {
        try {
            BasicFileAttributes a = Files.readAttributes(jar, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                return null;
            }
            return new Fingerprint(a.size(), a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS), a.fileKey());
        } catch (IOException e) {
            return null;
        }
    }

    private static List<String> names(List<PluginStatus> statuses) {
        return statuses.stream().map(s -> s.jar() + (s.version() == null ? "" : " (" + s.classifier() + " " + s.version() + ")")).toList();
    }
}
