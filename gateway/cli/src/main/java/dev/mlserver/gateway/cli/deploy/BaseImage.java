package dev.mlserver.gateway.cli.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JRE base image made on this machine, with no registry: a jlink'd runtime of the running JDK
 * at {@code /opt/java}, the shared libraries it and the serving jar's native code need, the CA
 * certificates, {@code /tmp} and a non-root user {@code 10001}. Written as a {@code docker save}
 * tarball: {@code ml_server build --base-image tar://FILE} builds on it, {@code docker load} and
 * {@code podman load} read it.
 */
public final class BaseImage {
    /** What the gateway and its libraries use (SnakeYAML reads java.beans; Netty, jdk.unsupported). */
    static final List<String> MODULES = List.of("java.base", "java.compiler", "java.desktop", "java.instrument",
            "java.logging", "java.management", "java.naming", "java.net.http", "java.prefs", "java.scripting",
            "java.security.jgss", "java.security.sasl", "java.sql", "java.xml", "jdk.crypto.cryptoki", "jdk.crypto.ec",
            "jdk.jfr", "jdk.management", "jdk.naming.dns", "jdk.net", "jdk.unsupported", "jdk.zipfs");
    public static final String JAVA_HOME = "/opt/java";
    /** The image's name; it holds the JRE and no shell, nor any other program. */
    public static final String NAME = "mlserver-jre";
    private static final Pattern LDD_LINE = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");
    private static final String PASSWD = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            + "mlserver:x:10001:10001:mlserver:/app:/usr/sbin/nologin\n";
    private static final String GROUP = "root:x:0:\nmlserver:x:10001:\n";

    private final Path javaHome;
    private final Path servingJar;
    private final Path work;

    private BaseImage(Path javaHome, Path servingJar, Path work) {
        this.javaHome = javaHome;
        this.servingJar = servingJar;
        this.work = work;
    }

    /**
     * Makes the base image tarball {@code output} from the JDK at {@code javaHome}, with the
     * libraries {@code servingJar}'s Linux natives need; {@code work} is a scratch directory.
     *
     * @return the image's name and tag inside the tarball, as {@code docker load} names it
     */
    public static String write(Path javaHome, Path servingJar, Path work, Path output, Instant created) {
        return new BaseImage(javaHome, servingJar, work).make(output, created);
    }

    /** {@code mlserver-jre:<java version>}: what {@code docker load} calls the image. */
    public static String reference() {
        return NAME + ":" + Runtime.version().feature() + "." + Runtime.version().interim() + "."
                + Runtime.version().update();
    }

    private String make(Path output, Instant created) {
        Path rootfs = work.resolve("rootfs");
        Path java = rootfs.resolve(JAVA_HOME.substring(1));
        try {
            Files.createDirectories(java.getParent());
            jlink(java);
            copyCertificates(java);
            Map<String, Path> libraries = new TreeMap<>();
            for (Path elf : elfFiles(java)) {
                libraries.putAll(ldd(elf));
            }
            for (Path so : servingJarNatives()) {
                libraries.putAll(ldd(so));
            }
            for (Map.Entry<String, Path> lib : libraries.entrySet()) {
                Path target = rootfs.resolve(lib.getKey().substring(1));
                Files.createDirectories(target.getParent());
                Files.copy(lib.getValue(), target, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.createDirectories(rootfs.resolve("etc"));
            Files.writeString(rootfs.resolve("etc/passwd"), PASSWD, StandardCharsets.UTF_8);
            Files.writeString(rootfs.resolve("etc/group"), GROUP, StandardCharsets.UTF_8);
            Files.writeString(rootfs.resolve("etc/nsswitch.conf"), "hosts: files dns\n", StandardCharsets.UTF_8);
            Files.createDirectories(rootfs.resolve("tmp"));
            Files.createDirectories(rootfs.resolve("app"));
        } catch (IOException e) {
            throw new DeployException("cannot assemble the base image in " + work + ": " + e.getMessage(), e);
        }
        String reference = reference();
        ImageTarball.write(rootfs, output, reference, created,
                List.of("PATH=" + JAVA_HOME + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "JAVA_HOME=" + JAVA_HOME, "LANG=C.UTF-8"),
                "10001:10001", "jlink of " + javaHome + " (" + System.getProperty("java.vm.vendor") + " "
                        + Runtime.version() + ") with " + String.join(",", MODULES));
        return reference;
    }

    private void jlink(Path java) {
        Path jlink = javaHome.resolve("bin").resolve("jlink");
        if (!Files.isExecutable(jlink) || !Files.isDirectory(javaHome.resolve("jmods"))) {
            throw new DeployException("no jlink and jmods in " + javaHome + ": run ml_server with a full JDK"
                    + " (Debian: apt-get install openjdk-17-jdk-headless)");
        }
        run(List.of(jlink.toString(), "--add-modules", String.join(",", MODULES), "--strip-debug", "--no-header-files",
                "--no-man-pages", "--compress=2", "--output", java.toString()));
    }

    /** The running JDK's trust store, resolved (Debian links it to /etc/ssl/certs/java/cacerts), and the PEM bundle. */
    private void copyCertificates(Path java) throws IOException {
        Path cacerts = javaHome.resolve("lib/security/cacerts");
        if (Files.exists(cacerts)) {
            Path target = java.resolve("lib/security/cacerts");
            Files.deleteIfExists(target);
            Files.copy(cacerts.toRealPath(), target);
        }
        Path bundle = Path.of("/etc/ssl/certs/ca-certificates.crt");
        if (Files.isRegularFile(bundle)) {
            Path target = java.getParent().getParent().resolve("etc/ssl/certs/ca-certificates.crt");
            Files.createDirectories(target.getParent());
            Files.copy(bundle.toRealPath(), target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static List<Path> elfFiles(Path dir) throws IOException {
        List<Path> elves = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile() && attrs.size() > 4) {
                    try (InputStream in = Files.newInputStream(file)) {
                        byte[] magic = in.readNBytes(4);
                        if (magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F') {
                            elves.add(file);
                        }
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        elves.sort(Comparator.naturalOrder());
        return elves;
    }

    /** The Linux x86-64 native libraries inside the serving jar (ONNX Runtime, tokenizers), unpacked. */
    private List<Path> servingJarNatives() throws IOException {
        List<Path> natives = new ArrayList<>();
        Path dir = Files.createDirectories(work.resolve("natives"));
        try (JarFile jar = new JarFile(servingJar.toFile())) {
            for (JarEntry entry : jar.stream().toList()) {
                String name = entry.getName();
                if (name.endsWith(".so") && name.matches(".*linux[-_/]?(x64|x86_64|amd64).*")) {
                    Path target = dir.resolve(natives.size() + "-" + name.substring(name.lastIndexOf('/') + 1));
                    try (InputStream in = jar.getInputStream(entry)) {
                        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    natives.add(target);
                }
            }
        }
        return natives;
    }

    /** The system libraries {@code elf} loads, by the path the loader finds them at; the JDK's own are skipped. */
    private Map<String, Path> ldd(Path elf) throws IOException {
        Map<String, Path> found = new TreeMap<>();
        String printed = run(List.of("ldd", elf.toString()));
        for (String line : printed.lines().toList()) {
            if (line.contains("not found") || line.contains("statically linked") || line.contains("not a dynamic")) {
                continue;
            }
            Matcher m = LDD_LINE.matcher(line.trim());
            if (m.find()) {
                Path lib = Path.of(m.group(1));
                if (!lib.startsWith(work) && !lib.startsWith(javaHome.toRealPath()) && Files.exists(lib)) {
                    found.put(lib.toString(), lib.toRealPath());
                    // the loader's own name and the name it is linked as (merged /usr: /lib64 -> usr/lib64)
                    found.put(lib.toRealPath().toString(), lib.toRealPath());
                }
            }
        }
        return found;
    }

    private static String run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] printed = process.getInputStream().readAllBytes();
            int exit = process.waitFor();
            String text = new String(printed, StandardCharsets.UTF_8);
            if (exit != 0 && !command.get(0).equals("ldd")) {
                throw new DeployException("`" + String.join(" ", command) + "` failed with exit code " + exit + ": "
                        + text.strip().lines().reduce((a, b) -> b).orElse(""));
            }
            return text;
        } catch (IOException e) {
            throw new DeployException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeployException("interrupted while " + command.get(0) + " ran", e);
        }
    }
}
