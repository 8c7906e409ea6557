package dev.mlserver.gateway.dev;

import dev.mlserver.gateway.repo.ClassifierModule;
import dev.mlserver.gateway.repo.GitRepo;
import dev.mlserver.gateway.repo.PomFile;
import dev.mlserver.gateway.repo.RepoException;
import dev.mlserver.gateway.repo.Repository;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * A plugin jar made on the fly from a classifier's source module, as {@code mvn package} would
 * make it: the module's compiled classes, those of the repository's modules it depends on, its
 * {@code mlserver.yaml} and {@code artifacts/} straight from the source tree, and a manifest
 * stamped from the pom and git. The gateway then loads it exactly as it loads a released jar.
 */
final class DevJar {
    private final Repository repo;
    private final ClassifierModule module;

    DevJar(Repository repo, ClassifierModule module) {
        this.repo = repo;
        this.module = module;
    }

    ClassifierModule module() {
        return module;
    }

    /** The directories and files whose change means a rebuild: classes, card, artifacts, poms. */
    List<Path> watched() {
        List<Path> paths = new ArrayList<>();
        paths.add(module.pom().file());
        paths.add(module.mlserverYaml());
        paths.add(module.artifacts());
        classDirs().forEach(paths::add);
        return paths;
    }

    /** A fingerprint of everything {@link #watched} holds: sizes and modification times. */
    String fingerprint() {
        MessageDigest digest = sha256();
        for (Path root : watched()) {
            if (!Files.exists(root)) {
                digest.update(("absent " + root + "\n").getBytes(StandardCharsets.UTF_8));
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    digest.update((f + " " + Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis() + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // a file that vanished mid-walk: a build is running; the next poll sees it settled
                digest.update(("unreadable " + root + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Writes the jar to {@code target} (atomically, replacing it).
     *
     * @throws RepoException when the module has not been compiled or cannot be read
     */
    void write(Path target) {
        Path classes = module.dir().resolve("target/classes");
        if (!Files.isDirectory(classes)) {
            throw new RepoException("no compiled classes in " + classes + ": run `mvn compile` first"
                    + (module.relativeDir().isEmpty() ? "" : " (from the repository root: mvn compile -pl "
                    + module.relativeDir() + " -am)"));
        }
        PomFile pom = PomFile.read(module.pom().file());
        String version = pom.version().orElseThrow(() -> new RepoException(pom.file() + " has no <version>"));
        Map<String, byte[]> entries = new TreeMap<>();
        StringBuilder extensions = new StringBuilder();
        for (Path dir : classDirs()) {
            addTree(dir, "", entries, extensions);
        }
        entries.keySet().removeIf(name -> name.equals("mlserver.yaml") || name.startsWith("artifacts/"));
        entries.put("mlserver.yaml", read(module.mlserverYaml()));
        if (Files.isDirectory(module.artifacts())) {
            addTree(module.artifacts(), "artifacts/", entries, null);
        }
        if (!extensions.isEmpty()) {
            entries.put("META-INF/extensions.idx", extensions.toString().getBytes(StandardCharsets.UTF_8));
        }
        byte[] jar = jar(manifest(pom, version), entries);
        try {
            Files.createDirectories(target.getParent());
            Path partial = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
            Files.write(partial, jar);
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new RepoException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** The module's {@code target/classes}, then those of the repository modules it depends on. */
    private List<Path> classDirs() {
        return repo.sourceDirs(module).stream().map(dir -> dir.resolve("target/classes")).toList();
    }

    private Manifest manifest(PomFile pom, String version) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("Plugin-Id", module.name());
        values.put("Plugin-Version", version);
        values.put("Plugin-Provider", pom.property("mlserver.provider").orElse("development"));
        pom.property("mlserver.requires").filter(r -> !r.contains("${")).ifPresent(r -> values.put("Plugin-Requires", r));
        values.put("Git-Repository", pom.property("mlserver.repository").orElse(dev.mlserver.gateway.repo.Scaffold.repositoryName(repo.root())));
        try (GitRepo git = GitRepo.find(module.dir()).orElse(null)) {
            if (git != null) {
                // uncommitted code is serving: the commit alone would name a build that is not this one
                boolean dirty = !git.uncommittedChanges().isEmpty();
                git.headCommit().ifPresent(c -> values.put("Git-Commit", dirty ? c + "-dirty" : c));
                values.put("Git-Tags", dirty ? "" : String.join(",", git.tagsAtHead()));
                values.put("Git-Dirty", Boolean.toString(dirty));
            }
        }
        values.put("Build-Time", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        values.put("Build-Mode", "development");
        Manifest manifest = new Manifest();
        Attributes a = manifest.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        values.forEach(a::putValue);
        return manifest;
    }

    private static void addTree(Path root, String prefix, Map<String, byte[]> entries, StringBuilder extensions) {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = prefix + root.relativize(f).toString().replace('\\', '/');
                if (name.equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                if (extensions != null && name.equals("META-INF/extensions.idx")) {
                    extensions.append(new String(read(f), StandardCharsets.UTF_8).strip()).append('\n');
                    continue;
                }
                entries.putIfAbsent(name, read(f));
            }
        } catch (IOException e) {
            throw new RepoException("cannot read " + root + ": " + e.getMessage(), e);
        }
    }

    private static byte[] jar(Manifest manifest, Map<String, byte[]> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = bytes; JarOutputStream zip = new JarOutputStream(out, manifest)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new JarEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new RepoException("cannot build the development jar: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new RepoException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
