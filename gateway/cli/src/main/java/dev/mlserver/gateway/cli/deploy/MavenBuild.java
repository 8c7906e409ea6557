package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.repo.ClassifierModule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds classifier modules with Maven as a child process, from the repository root so that the
 * reactor also builds what they depend on ({@code -pl <modules> -am}).
 */
public final class MavenBuild {
    /** The Maven command; {@code mvn} on the PATH unless this variable names another. */
    public static final String MVN_ENV = "MLSERVER_MVN";

    private final Path root;
    private final boolean offline;
    private final boolean skipTests;
    private final Map<String, String> env;

    public MavenBuild(Path root, boolean offline, boolean skipTests, Map<String, String> env) {
        this.root = root;
        this.offline = offline;
        this.skipTests = skipTests;
        this.env = env;
    }

    /** The command line that builds {@code modules}. */
    public List<String> command(List<ClassifierModule> modules) {
        List<String> command = new ArrayList<>();
        command.add(env.getOrDefault(MVN_ENV, "mvn"));
        command.add("-q");
        command.add("-B");
        if (offline) {
            command.add("-o");
        }
        if (skipTests) {
            command.add("-DskipTests");
        }
        command.add("package");
        command.add("-pl");
        command.add(modules.stream().map(m -> m.relativeDir().isEmpty() ? "." : m.relativeDir()).collect(Collectors.joining(",")));
        command.add("-am");
        return command;
    }

    /** Runs Maven with its output on this process's; fails when it fails or leaves no jar. */
    public List<PluginJar> build(List<ClassifierModule> modules) {
        for (ClassifierModule m : modules) {
            if (!m.dir().startsWith(root)) {
                throw new DeployException(m.dir() + " is outside the repository " + root);
            }
        }
        List<String> command = command(modules);
        try {
            Process process = new ProcessBuilder(command).directory(root.toFile()).inheritIO().start();
            int exit = process.waitFor();
            if (exit != 0) {
                throw new DeployException("`" + String.join(" ", command) + "` in " + root + " failed with exit code " + exit);
            }
        } catch (IOException e) {
            throw new DeployException("cannot run Maven (`" + command.get(0) + "`): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeployException("interrupted while Maven ran", e);
        }
        List<PluginJar> jars = new ArrayList<>();
        for (ClassifierModule m : modules) {
            PluginJar jar = PluginJar.read(m.builtJar());
            if (!jar.name().equals(m.name()) || !jar.version().equals(m.releaseVersion())) {
                throw new DeployException(m.builtJar() + " says " + jar.name() + " " + jar.version() + " but the module is "
                        + m.name() + " " + m.releaseVersion() + ": is the module a classifier plugin (Plugin-Id, Plugin-Version)?");
            }
            jars.add(jar);
        }
        return jars;
    }
}
