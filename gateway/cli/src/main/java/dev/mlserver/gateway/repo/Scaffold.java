package dev.mlserver.gateway.repo;

import dev.mlserver.api.Classifier;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Writes a new classifier repository. One classifier gives the single-classifier layout (the
 * module is the repository); several give {@code classifiers/<name>/} modules beside a
 * {@code shared/} module and a parent pom. Either way each classifier has a real starter ONNX
 * model, builds with {@code mvn package} and serves as it is.
 */
public final class Scaffold {
    /** What the starter classifiers take as input. */
    public enum Kind { TABULAR, TEXT }

    /**
     * @param files the files written, relative to the repository root
     * @param commit the initial commit when a git repository was created, else null
     * @param tags the tags of that commit
     */
    public record Result(Path root, boolean multi, List<String> files, String commit, List<String> tags) {}

    private final Path root;
    private final List<String> names;
    private final Kind kind;
    private final String groupId;
    private final TagFormat tagFormat;
    private final String repository;
    private final List<String> written = new ArrayList<>();

    private Scaffold(Path root, List<String> names, Kind kind, String groupId, TagFormat tagFormat) {
        this.root = root.toAbsolutePath().normalize();
        this.names = List.copyOf(names);
        this.kind = kind;
        this.tagFormat = tagFormat;
        this.repository = repositoryName(this.root);
        this.groupId = groupId != null ? groupId : "org.example." + javaIdentifier(repository.replace("-", ""));
    }

    /** The repository name a directory gives: its name in lowercase letters, digits and dashes. */
    public static String repositoryName(Path dir) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        String cleaned = (name == null ? "classifiers" : name.toString()).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        return cleaned.isEmpty() ? "classifiers" : cleaned;
    }

    /**
     * Writes the repository into {@code root} (absent or empty) and, when it is in no git
     * repository, makes it one with an initial commit and a {@code 0.1.0} tag per classifier.
     */
    public static Result create(Path root, List<String> names, Kind kind, String groupId, TagFormat tagFormat) {
        return new Scaffold(root, names, kind, groupId, tagFormat).write();
    }

    private Result write() {
        if (names.isEmpty()) {
            throw new RepoException("no classifier to create");
        }
        checkEmpty();
        boolean multi = names.size() > 1;
        Map<String, String> common = commonValues();
        put(".gitignore", template("repo/gitignore", common));
        put(".mvn/maven.config", template("repo/maven.config", common));
        put(RepoConfig.FILE, template("repo/mlserver-repo.yaml", common));
        writePluginApi(common);

        String first = names.get(0);
        Map<String, String> readme = new LinkedHashMap<>(common);
        readme.put("first", first);
        readme.put("first_dir", multi ? "classifiers/" + first : ".");
        readme.put("first_tag", tagFormat.tag(first, new SemVer(0, 2, 0, "")));
        readme.put("example", kind == Kind.TEXT ? "{\"text\": \"great value, works well\"}"
                : "{\"sepal_length\": 5.1, \"sepal_width\": 3.5, \"petal_length\": 1.4, \"petal_width\": 0.2}");
        put("README.md", template("repo/README.md", readme));

        if (multi) {
            writeMulti(common);
        } else {
            writeSingle(common);
        }

        String commit = null;
        List<String> tags = new ArrayList<>();
        if (GitRepo.find(root).isEmpty()) {
            try (GitRepo git = GitRepo.init(root)) {
                commit = git.commitAll("New classifier repository: " + String.join(", ", names));
                for (String name : names) {
                    String tag = tagFormat.tag(name, new SemVer(0, 1, 0, ""));
                    git.tag(tag, name + " 0.1.0");
                    tags.add(tag);
                }
            }
        }
        return new Result(root, multi, List.copyOf(written), commit, List.copyOf(tags));
    }

    private void writeMulti(Map<String, String> common) {
        String modules = String.join("\n", names.stream().map(n -> "    <module>classifiers/" + n + "</module>").toList());
        Map<String, String> parent = new LinkedHashMap<>(common);
        parent.put("modules", modules);
        put("pom.xml", template("multi/pom.xml", parent));
        put("shared/pom.xml", template("multi/shared-pom.xml", common));

        String basePackage = groupId + ".shared";
        String baseClass = kind == Kind.TEXT ? "OnnxTextClassifier" : "OnnxTabularClassifier";
        Map<String, String> base = new LinkedHashMap<>(common);
        base.put("package", basePackage);
        base.put("class", baseClass);
        base.put("modifier", "abstract ");
        base.put("extension_import", "");
        base.put("extension_annotation", "");
        put("shared/src/main/java/" + basePackage.replace('.', '/') + "/" + baseClass + ".java",
                template(kindDir() + "/Classifier.java", base));

        for (String name : names) {
            Map<String, String> values = classifierValues(common, name);
            values.put("base_package", basePackage);
            values.put("base_class", baseClass);
            String dir = "classifiers/" + name + "/";
            put(dir + "pom.xml", template("multi/classifier-pom.xml", values));
            put(dir + "mlserver.yaml", template(kindDir() + "/mlserver.yaml", values));
            put(dir + "src/main/java/" + values.get("package").replace('.', '/') + "/" + values.get("class") + ".java",
                    template("Extension.java", values));
            putBytes(dir + "artifacts/model.onnx", resource(kindDir() + "/model.onnx"));
        }
    }

    private void writeSingle(Map<String, String> common) {
        String name = names.get(0);
        Map<String, String> values = classifierValues(common, name);
        values.put("modifier", "");
        values.put("extension_import", "import org.pf4j.Extension;\n");
        values.put("extension_annotation", "@Extension\n");
        put("pom.xml", template("single/pom.xml", values));
        put("mlserver.yaml", template(kindDir() + "/mlserver.yaml", values));
        put("src/main/java/" + values.get("package").replace('.', '/') + "/" + values.get("class") + ".java",
                template(kindDir() + "/Classifier.java", values));
        putBytes("artifacts/model.onnx", resource(kindDir() + "/model.onnx"));
    }

    private Map<String, String> commonValues() {
        Properties versions = new Properties();
        try (InputStream in = resourceStream("versions.properties")) {
            versions.load(in);
        } catch (IOException e) {
            throw new RepoException("cannot read the scaffold versions: " + e.getMessage(), e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        values.put("repository", repository);
        values.put("group_id", groupId);
        values.put("tag_format", tagFormat.template());
        values.put("mlserver_version", versions.getProperty("mlserver.version"));
        values.put("pf4j_version", versions.getProperty("pf4j.version"));
        values.put("onnxruntime_version", versions.getProperty("onnxruntime.version"));
        values.put("jackson_version", com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString());
        values.put("slf4j_version", libraryVersion("org.slf4j", "slf4j-api"));
        values.put("plugin_management", text("plugin-management.xml"));
        values.put("classifier_build", text("build-fragment.xml"));
        values.put("common", template("common-fragment.xml", values));
        return values;
    }

    private Map<String, String> classifierValues(Map<String, String> common, String name) {
        Map<String, String> values = new LinkedHashMap<>(common);
        values.put("name", name);
        values.put("package", groupId + "." + javaIdentifier(name.replace('-', '_')));
        values.put("class", className(name));
        values.put("description", kind == Kind.TEXT ? "The " + name + " text classifier"
                : "The " + name + " tabular classifier");
        return values;
    }

    private String kindDir() {
        return kind == Kind.TEXT ? "text" : "tabular";
    }

    /** The plugin API jar and pom, in {@code lib/maven} as a file-based Maven repository. */
    private void writePluginApi(Map<String, String> common) {
        String version = common.get("mlserver_version");
        String dir = "lib/maven/dev/mlserver/plugin-api/" + version + "/";
        put(dir + "plugin-api-" + version + ".pom", template("plugin-api.pom", common));
        putBytes(dir + "plugin-api-" + version + ".jar", pluginApiJar(version));
    }

    /** A jar of the {@code dev.mlserver.api} classes this ml_server runs with. */
    static byte[] pluginApiJar(String version) {
        Path source;
        try {
            source = Path.of(Classifier.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            throw new RepoException("cannot locate the plugin API classes: " + e.getMessage(), e);
        }
        Map<String, byte[]> classes = new java.util.TreeMap<>();
        String prefix = "dev/mlserver/api/";
        try {
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.walk(source.resolve(prefix))) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        classes.put(source.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
                    }
                }
            } else {
                try (JarFile jar = new JarFile(source.toFile())) {
                    for (Enumeration<JarEntry> it = jar.entries(); it.hasMoreElements(); ) {
                        JarEntry e = it.nextElement();
                        if (e.getName().startsWith(prefix) && !e.isDirectory()) {
                            try (InputStream in = jar.getInputStream(e)) {
                                classes.put(e.getName(), in.readAllBytes());
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new RepoException("cannot read the plugin API classes from " + source + ": " + e.getMessage(), e);
        }
        if (classes.isEmpty()) {
            throw new RepoException("no plugin API classes found in " + source);
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Implementation-Title", "mlserver plugin API");
        manifest.getMainAttributes().putValue("Implementation-Version", version);
        var bytes = new java.io.ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, manifest)) {
            for (Map.Entry<String, byte[]> e : classes.entrySet()) {
                JarEntry entry = new JarEntry(e.getKey());
                entry.setTime(0);
                out.putNextEntry(entry);
                out.write(e.getValue());
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new RepoException("cannot write the plugin API jar: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    private static String libraryVersion(String group, String artifact) {
        String path = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = Scaffold.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new RepoException("cannot tell which " + artifact + " this ml_server carries (" + path + " is missing)");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new RepoException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private void checkEmpty() {
        if (Files.exists(root)) {
            if (!Files.isDirectory(root)) {
                throw new RepoException(root + " exists and is not a directory");
            }
            try (Stream<Path> entries = Files.list(root)) {
                if (entries.findAny().isPresent()) {
                    throw new RepoException(root + " is not empty: init writes a new repository into an empty or new directory");
                }
            } catch (IOException e) {
                throw new RepoException("cannot read " + root + ": " + e.getMessage(), e);
            }
        }
    }

    private void put(String relative, String content) {
        putBytes(relative, content.getBytes(StandardCharsets.UTF_8));
    }

    private void putBytes(String relative, byte[] content) {
        Path file = root.resolve(relative);
        try {
            Files.createDirectories(file.getParent());
            try (OutputStream out = Files.newOutputStream(file)) {
                out.write(content);
            }
        } catch (IOException e) {
            throw new RepoException("cannot write " + file + ": " + e.getMessage(), e);
        }
        written.add(relative);
    }

    private static String template(String name, Map<String, String> values) {
        String text = text(name);
        for (Map.Entry<String, String> v : values.entrySet()) {
            text = text.replace("{{" + v.getKey() + "}}", v.getValue());
        }
        int unfilled = text.indexOf("{{");
        if (unfilled >= 0) {
            throw new IllegalStateException("scaffold template " + name + " has an unfilled placeholder: "
                    + text.substring(unfilled, Math.min(text.length(), unfilled + 40)));
        }
        return text;
    }

    private static String text(String name) {
        return new String(resource(name), StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) {
        try (InputStream in = resourceStream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new RepoException("cannot read scaffold resource " + name + ": " + e.getMessage(), e);
        }
    }

    private static InputStream resourceStream(String name) {
        InputStream in = Scaffold.class.getResourceAsStream("/scaffold/" + name);
        if (in == null) {
            throw new IllegalStateException("scaffold resource " + name + " is missing from ml_server");
        }
        return in;
    }

    static String className(String name) {
        StringBuilder out = new StringBuilder();
        for (String part : name.split("-")) {
            if (!part.isEmpty()) {
                out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        String base = out.toString();
        return (Character.isDigit(base.charAt(0)) ? "C" : "") + base + "Classifier";
    }

    private static String javaIdentifier(String s) {
        String cleaned = s.replaceAll("[^A-Za-z0-9_]", "");
        if (cleaned.isEmpty() || Character.isDigit(cleaned.charAt(0))) {
            cleaned = "c" + cleaned;
        }
        return javax.lang.model.SourceVersion.isKeyword(cleaned) ? cleaned + "_" : cleaned;
    }
}
