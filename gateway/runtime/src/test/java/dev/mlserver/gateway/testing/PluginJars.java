package dev.mlserver.gateway.testing;

import dev.mlserver.api.Classifier;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Builds plugin jars for tests. A fixture jar holds its classifier's class file, copied from the
 * test class path, and names it in its {@code META-INF/extensions.idx}: the plugin's own class
 * loader defines it, as with a real plugin (the gateway's class path is not visible to plugins).
 */
public final class PluginJars {
    private final String id;
    private String version = "1.0.0";
    private Class<? extends Classifier> classifier;
    private String yaml = "";
    private final Map<String, String> manifest = new LinkedHashMap<>();
    private final Map<String, byte[]> entries = new LinkedHashMap<>();

    private PluginJars(String id) {
        this.id = id;
    }

    public static PluginJars plugin(String id) {
        return new PluginJars(id);
    }

    public PluginJars version(String version) {
        this.version = version;
        return this;
    }

    public PluginJars classifier(Class<? extends Classifier> classifier) {
        this.classifier = classifier;
        return this;
    }

    /** Puts every class of the jar that holds {@code library} into the plugin jar, as a plugin bundles a private dependency. */
    public PluginJars bundling(Class<?> library) {
        try (JarFile jar = new JarFile(Path.of(library.getProtectionDomain().getCodeSource().getLocation().toURI()).toFile())) {
            for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator) {
                if (e.getName().endsWith(".class") && !e.getName().startsWith("META-INF/")) {
                    try (InputStream in = jar.getInputStream(e)) {
                        entries.put(e.getName(), in.readAllBytes());
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot bundle the jar of " + library.getName() + ": " + e, e);
        }
        return this;
    }

    public PluginJars yaml(String yaml) {
        this.yaml = yaml;
        return this;
    }

    public PluginJars manifest(String key, String value) {
        manifest.put(key, value);
        return this;
    }

    public PluginJars entry(String name, byte[] bytes) {
        entries.put(name, bytes);
        return this;
    }

    /** Writes {@code <dir>/<file>} and returns its path. */
    public Path writeTo(Path dir, String file) {
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Plugin-Id", id);
        a.putValue("Plugin-Version", version);
        a.putValue("Plugin-Provider", "tests");
        a.putValue("Git-Commit", "abc1234");
        a.putValue("Git-Repository", "fixtures");
        manifest.forEach(a::putValue);
        Path jar = dir.resolve(file);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out, mf)) {
            if (classifier != null) {
                put(zip, "META-INF/extensions.idx", (classifier.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            put(zip, "mlserver.yaml", yaml.getBytes(StandardCharsets.UTF_8));
            if (classifier != null) {
                String name = classifier.getName().replace('.', '/') + ".class";
                try (var in = classifier.getClassLoader().getResourceAsStream(name)) {
                    put(zip, name, in.readAllBytes());
                }
            }
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                put(zip, e.getKey(), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jar;
    }

    /**
     * Copies a real plugin jar under another classifier name and version: same classes and
     * artifacts, new manifest and {@code name:} in mlserver.yaml.
     */
    public static Path renamed(Path source, Path dir, String newId, String newVersion) {
        Path jar = dir.resolve(newId + ".jar");
        try (JarFile in = new JarFile(source.toFile())) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue("Plugin-Id", newId);
            mf.getMainAttributes().putValue("Plugin-Version", newVersion);
            try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out, mf)) {
                for (Enumeration<JarEntry> it = in.entries(); it.hasMoreElements(); ) {
                    JarEntry e = it.nextElement();
                    if (e.getName().equals("META-INF/MANIFEST.MF") || e.isDirectory()) {
                        continue;
                    }
                    byte[] bytes = in.getInputStream(e).readAllBytes();
                    if (e.getName().equals("mlserver.yaml")) {
                        bytes = new String(bytes, StandardCharsets.UTF_8)
                                .replaceFirst("(?m)^name:.*$", "name: " + newId).getBytes(StandardCharsets.UTF_8);
                    }
                    put(zip, e.getName(), bytes);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jar;
    }

    /**
     * Copies a jar to {@code target}, manifest unchanged, with its entries (name to bytes, in jar
     * order) passed through {@code edit} first: replace, add or remove entries.
     */
    public static Path rewritten(Path source, Path target, UnaryOperator<Map<String, byte[]>> edit) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        Manifest mf;
        try (JarFile in = new JarFile(source.toFile())) {
            mf = new Manifest(in.getManifest());
            for (Enumeration<JarEntry> it = in.entries(); it.hasMoreElements(); ) {
                JarEntry e = it.nextElement();
                if (!e.getName().equals("META-INF/MANIFEST.MF") && !e.isDirectory()) {
                    entries.put(e.getName(), in.getInputStream(e).readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, byte[]> edited = edit.apply(entries);
        try (OutputStream out = Files.newOutputStream(target); JarOutputStream zip = new JarOutputStream(out, mf)) {
            for (Map.Entry<String, byte[]> e : edited.entrySet()) {
                put(zip, e.getKey(), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    /** One entry of a jar. */
    public static byte[] entryOf(Path jar, String name) {
        try (JarFile in = new JarFile(jar.toFile())) {
            JarEntry e = in.getJarEntry(name);
            if (e == null) {
                throw new IllegalArgumentException(jar + " has no " + name);
            }
            return in.getInputStream(e).readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void put(JarOutputStream zip, String name, byte[] bytes) throws IOException {
        zip.putNextEntry(new JarEntry(name));
        zip.write(bytes);
        zip.closeEntry();
    }
}
