package dev.mlserver.gateway.plugin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An allowlist of plugin jar SHA-256 digests, in {@code sha256sum} format: one
 * {@code <64 hex digits>  <jar file name>} per line, so {@code sha256sum *.jar > plugins.lock}
 * writes one and {@code sha256sum -c plugins.lock} checks one. Blank lines and {@code #}
 * comments are ignored.
 *
 * @param digests the digest listed for each jar file name
 */
public record PluginLock(Map<String, String> digests) {
    private static final Pattern LINE = Pattern.compile("([0-9a-fA-F]{64}) [ *](\\S.*)");
    static final long MAX_BYTES = 1 << 20;

    public PluginLock {
        digests = Collections.unmodifiableMap(new TreeMap<>(digests));
    }

    /** Whether this jar file name is listed with exactly this digest. */
    public boolean allows(String jar, String sha256) {
        return sha256.toLowerCase(java.util.Locale.ROOT).equals(digests.get(jar));
    }

    /** The file names listed with this digest. */
    public List<String> namesOf(String sha256) {
        String digest = sha256.toLowerCase(java.util.Locale.ROOT);
        return digests.entrySet().stream().filter(e -> e.getValue().equals(digest)).map(Map.Entry::getKey).toList();
    }

    /** The digest listed for a jar file name. */
    public Optional<String> digestOf(String jar) {
        return Optional.ofNullable(digests.get(jar));
    }

    /** Reads a lock file; a malformed line is an {@link IllegalArgumentException} naming it. */
    public static PluginLock read(Path file) throws IOException {
        if (Files.size(file) > MAX_BYTES) {
            throw new IllegalArgumentException(file + " is larger than " + MAX_BYTES + " bytes");
        }
        Map<String, String> digests = new TreeMap<>();
        List<String> lines = List.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n"));
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException(file.getFileName() + " line " + (i + 1)
                        + " is not '<sha256>  <jar file>'");
            }
            String name = Path.of(m.group(2)).getFileName().toString();
            digests.put(name, m.group(1).toLowerCase(java.util.Locale.ROOT));
        }
        return new PluginLock(digests);
    }

    /** The lock of every {@code *.jar} in {@code dir}, as the gateway would hash them. */
    public static PluginLock of(Path dir) throws IOException {
        Map<String, String> digests = new TreeMap<>();
        for (Path jar : jars(dir)) {
            digests.put(jar.getFileName().toString(), PluginLoader.sha256(Files.readAllBytes(jar)));
        }
        return new PluginLock(digests);
    }

    static List<Path> jars(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p)).sorted().toList();
        }
    }

    /** The file's text: {@code sha256sum} lines sorted by jar name. */
    public String text() {
        StringBuilder out = new StringBuilder();
        digests.forEach((jar, digest) -> out.append(digest).append("  ").append(jar).append('\n'));
        return out.toString();
    }

    /** The differences between this lock (what is on disk) and {@code expected}, one line each. */
    public List<String> differencesFrom(PluginLock expected) {
        List<String> out = new ArrayList<>();
        expected.digests.forEach((jar, digest) -> {
            String actual = digests.get(jar);
            if (actual == null) {
                out.add(jar + ": listed in the lock file but missing");
            } else if (!actual.equals(digest)) {
                out.add(jar + ": sha256 " + actual + " but the lock file lists " + digest);
            }
        });
        digests.forEach((jar, digest) -> {
            if (!expected.digests.containsKey(jar)) {
                out.add(jar + ": not in the lock file (sha256 " + digest + ")");
            }
        });
        return out;
    }
}
