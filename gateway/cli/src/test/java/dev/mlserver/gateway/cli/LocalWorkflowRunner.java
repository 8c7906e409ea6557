package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Runs one job of a GitHub Actions workflow on this machine, step by step, as a hosted runner
 * does: each {@code run:} step with {@code bash -e} in the checked-out repository, with the
 * workflow's, the job's and the step's {@code env:}; {@code $GITHUB_OUTPUT}, {@code $GITHUB_ENV}
 * and {@code $GITHUB_PATH} carried to the steps after it; {@code if:} honoured. The first step that
 * fails fails the test, with its output.
 *
 * <p>A step that uses an action runs that action's local equivalent:
 * <ul>
 * <li>{@code actions/checkout}: a full clone of the repository at {@code with.ref}
 *     ({@code fetch-depth: 0});</li>
 * <li>{@code actions/setup-java}: the JDK running this test, which must be the version asked for,
 *     and this machine's Maven, offline (nothing is fetched at test time) against a local repository
 *     holding what {@code ~/.m2} holds except {@code dev.mlserver}: the mlserver artifacts must come
 *     from where the workflow's repository itself provides them;</li>
 * <li>{@code actions/cache}: nothing; the runner's home outlives this runner's runs, so what one
 *     run leaves under {@code ~} is there for the next (a cache hit).</li>
 * </ul>
 * Another action, a key this runner does not know, or an expression it cannot evaluate fails the
 * test: nothing of a workflow is skipped silently.
 */
final class LocalWorkflowRunner {
    private static final Set<String> WORKFLOW_KEYS = Set.of("name", "on", "permissions", "concurrency", "env", "jobs");
    private static final Set<String> JOB_KEYS = Set.of("runs-on", "timeout-minutes", "env", "steps", "permissions");
    private static final Set<String> STEP_KEYS = Set.of("name", "id", "if", "env", "run", "uses", "with");
    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{\\{(.*?)}}");
    private static final long STEP_TIMEOUT_MINUTES = 15;

    private final Path home;
    private final Path tools;

    private LocalWorkflowRunner(Path home, Path tools) {
        this.home = home;
        this.tools = tools;
    }

    /** A runner whose home, tools and Maven repository live in {@code dir}. */
    static LocalWorkflowRunner create(Path dir) throws IOException {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path tools = Files.createDirectories(dir.resolve("tools"));
        Path repository = mavenRepository(Files.createDirectories(dir.resolve("m2")));
        Path mvn = Files.writeString(tools.resolve("mvn"), """
                #!/bin/sh
                # setup-java's Maven on this machine: offline, against the runner's own local repository
                exec '%s' -o -Dmaven.repo.local='%s' "$@"
                """.formatted(onPath("mvn"), repository));
        assertThat(mvn.toFile().setExecutable(true)).isTrue();
        return new LocalWorkflowRunner(home, tools);
    }

    /** What started the run: {@code push} of a tag, as GitHub describes it to the workflow. */
    record Event(String name, String ref, String refName) {
        static Event tagPush(String tag) {
            return new Event("push", "refs/tags/" + tag, tag);
        }
    }

    /** One step as it ran (or was skipped by its {@code if:}), with what it printed. */
    record StepRun(String name, boolean ran, double seconds, String output) {}

    /**
     * Runs {@code job} of {@code workflowFile} (the file as committed at the event's ref) for
     * {@code event} on {@code repository}, with these repository variables and secrets.
     */
    List<StepRun> run(Path repository, String workflowFile, String job, Event event, Map<String, String> vars,
            Map<String, String> secrets) throws IOException, InterruptedException {
        Map<String, Object> workflow = yaml(git(repository, "show", event.ref() + ":" + workflowFile));
        known(workflow, WORKFLOW_KEYS, "workflow");
        Map<String, Object> jobSpec = map(map(workflow.get("jobs"), "jobs").get(job), "jobs." + job);
        known(jobSpec, JOB_KEYS, "job " + job);

        Path runDir = Files.createTempDirectory(home.getParent(), "run-");
        Path workspace = Files.createDirectories(runDir.resolve("workspace"));
        Path temp = Files.createDirectories(runDir.resolve("temp"));
        Context context = new Context(event, vars, secrets, workspace, temp);
        context.env.putAll(evaluated(map(workflow.getOrDefault("env", Map.of()), "env"), context));
        context.env.putAll(evaluated(map(jobSpec.getOrDefault("env", Map.of()), "job env"), context));

        List<StepRun> runs = new ArrayList<>();
        int index = 0;
        for (Object item : (List<?>) jobSpec.get("steps")) {
            Map<String, Object> step = map(item, "step");
            known(step, STEP_KEYS, "step " + index);
            String name = String.valueOf(step.getOrDefault("name", step.getOrDefault("uses", "step " + index)));
            index++;
            if (step.containsKey("if") && !truthy(context.evaluate(unwrapped(String.valueOf(step.get("if")))))) {
                runs.add(new StepRun(name, false, 0, ""));
                continue;
            }
            long started = System.nanoTime();
            Map<String, String> with = evaluated(map(step.getOrDefault("with", Map.of()), "with"), context);
            String output = step.containsKey("uses")
                    ? action(repository, String.valueOf(step.get("uses")), with, context)
                    : script(name, step, context, index);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("workflow step %-45s %6.1f s%n", name, seconds);
            runs.add(new StepRun(name, true, seconds, output));
        }
        return runs;
    }

    private String action(Path repository, String uses, Map<String, String> with, Context context)
            throws IOException, InterruptedException {
        String action = uses.replaceFirst("@.*$", "");
        switch (action) {
            case "actions/checkout" -> {
                known(with, Set.of("ref", "fetch-depth"), uses);
                assertThat(with.getOrDefault("fetch-depth", "1")).as("only a full checkout is emulated").isEqualTo("0");
                String ref = with.getOrDefault("ref", context.event.ref());
                git(repository, "clone", "--quiet", "--no-checkout", repository.toString(), context.workspace.toString());
                git(context.workspace, "checkout", "--quiet", "--detach", ref);
                return "checked out " + ref;
            }
            case "actions/setup-java" -> {
                known(with, Set.of("distribution", "java-version", "cache"), uses);
                assertThat(with.get("java-version")).as("the JDK running this test").isEqualTo(Integer.toString(Runtime.version().feature()));
                assertThat(with.getOrDefault("cache", "maven")).isEqualTo("maven");
                Path javaHome = Path.of(System.getProperty("java.home"));
                context.env.put("JAVA_HOME", javaHome.toString());
                context.path.push(javaHome.resolve("bin").toString());
                context.path.push(tools.toString());
                return "java " + Runtime.version() + ", " + tools.resolve("mvn");
            }
            case "actions/cache" -> {
                known(with, Set.of("path", "key"), uses);
                assertThat(with.get("path")).as("a cache under the runner's home, which outlives the run").startsWith("~/");
                return "cache " + with.get("key") + ": the runner's home";
            }
            default -> throw new AssertionError("no local equivalent of the action " + uses);
        }
    }

    private String script(String name, Map<String, Object> step, Context context, int index)
            throws IOException, InterruptedException {
        Map<String, String> env = new LinkedHashMap<>(context.env);
        env.putAll(evaluated(map(step.getOrDefault("env", Map.of()), "step env"), context));
        Path script = Files.writeString(context.temp.resolve("step-" + index + ".sh"),
                context.substitute(String.valueOf(step.get("run"))));
        Path output = context.temp.resolve("output-" + index);
        Path githubEnv = context.temp.resolve("env-" + index);
        Path githubPath = context.temp.resolve("path-" + index);
        Path log = context.temp.resolve("log-" + index);
        for (Path file : List.of(output, githubEnv, githubPath)) {
            Files.writeString(file, "");
        }
        ProcessBuilder builder = new ProcessBuilder("bash", "-e", script.toString()).directory(context.workspace.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> processEnv = builder.environment();
        processEnv.clear();
        processEnv.putAll(context.runnerEnv());
        processEnv.putAll(env);
        processEnv.put("GITHUB_OUTPUT", output.toString());
        processEnv.put("GITHUB_ENV", githubEnv.toString());
        processEnv.put("GITHUB_PATH", githubPath.toString());
        Process process = builder.start();
        boolean finished = process.waitFor(STEP_TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (!finished) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        String printed = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(finished).as("step '%s' finished within %d minutes:%n%s", name, STEP_TIMEOUT_MINUTES, printed).isTrue();
        assertThat(process.exitValue()).as("step '%s' exit code; it printed:%n%s", name, printed).isZero();

        if (step.containsKey("id")) {
            context.outputs.put(String.valueOf(step.get("id")), keyValues(output));
        }
        context.env.putAll(keyValues(githubEnv));
        for (String dir : Files.readAllLines(githubPath)) {
            if (!dir.isBlank()) {
                context.path.push(dir.strip());
            }
        }
        return printed;
    }

    /** What the run's expressions read: github, vars, secrets, env, steps, runner. */
    private final class Context {
        final Event event;
        final Map<String, String> vars;
        final Map<String, String> secrets;
        final Path workspace;
        final Path temp;
        final Map<String, String> env = new LinkedHashMap<>();
        final Map<String, Map<String, String>> outputs = new HashMap<>();
        final Deque<String> path = new ArrayDeque<>();

        Context(Event event, Map<String, String> vars, Map<String, String> secrets, Path workspace, Path temp) {
            this.event = event;
            this.vars = vars;
            this.secrets = secrets;
            this.workspace = workspace;
            this.temp = temp;
        }

        /** The variables a hosted runner sets for every step; home and caches are this runner's own. */
        Map<String, String> runnerEnv() {
            Map<String, String> env = new LinkedHashMap<>();
            List<String> dirs = new ArrayList<>(path);
            dirs.add(System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
            env.put("PATH", String.join(File.pathSeparator, dirs));
            env.put("HOME", home.toString());
            env.put("XDG_CACHE_HOME", home.resolve(".cache").toString());
            env.put("TMPDIR", temp.toString());
            env.put("LANG", "C.UTF-8");
            env.put("CI", "true");
            env.put("GITHUB_ACTIONS", "true");
            env.put("GITHUB_WORKSPACE", workspace.toString());
            env.put("GITHUB_EVENT_NAME", event.name());
            env.put("GITHUB_REF", event.ref());
            env.put("GITHUB_REF_NAME", event.refName());
            env.put("RUNNER_OS", "Linux");
            env.put("RUNNER_TEMP", temp.toString());
            return env;
        }

        /** Every {@code ${{ expression }}} in {@code text} replaced by its value. */
        String substitute(String text) {
            Matcher m = EXPRESSION.matcher(text);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(out, Matcher.quoteReplacement(evaluate(m.group(1))));
            }
            m.appendTail(out);
            return out.toString();
        }

        /** {@code a || b}, {@code a == b}, {@code a != b} over context paths and 'literals'. */
        String evaluate(String expression) {
            List<String> alternatives = new ArrayList<>();
            for (String part : expression.split("\\|\\|")) {
                alternatives.add(comparison(part.strip(), expression));
            }
            for (String value : alternatives) {
                if (truthy(value)) {
                    return value;
                }
            }
            return alternatives.get(alternatives.size() - 1);
        }

        private String comparison(String text, String expression) {
            Matcher m = Pattern.compile("^(.+?)\\s*(==|!=)\\s*(.+)$").matcher(text);
            if (!m.matches()) {
                return operand(text, expression);
            }
            boolean equal = operand(m.group(1).strip(), expression).equalsIgnoreCase(operand(m.group(3).strip(), expression));
            return equal == m.group(2).equals("==") ? "true" : "";
        }

        private String operand(String text, String expression) {
            if (text.matches("'(?:[^']|'')*'")) {
                return text.substring(1, text.length() - 1).replace("''", "'");
            }
            String[] parts = text.split("\\.");
            String value = switch (parts[0]) {
                case "vars" -> parts.length == 2 ? vars.getOrDefault(parts[1], "") : null;
                case "secrets" -> parts.length == 2 ? secrets.getOrDefault(parts[1], "") : null;
                case "env" -> parts.length == 2 ? env.getOrDefault(parts[1], "") : null;
                case "steps" -> parts.length == 4 && parts[2].equals("outputs")
                        ? outputs.getOrDefault(parts[1], Map.of()).getOrDefault(parts[3], "") : null;
                case "runner" -> text.equals("runner.temp") ? temp.toString() : text.equals("runner.os") ? "Linux" : null;
                case "github" -> github(text);
                default -> null;
            };
            if (value == null) {
                throw new AssertionError("this runner cannot evaluate '" + text + "' in ${{" + expression + "}}");
            }
            return value;
        }

        private String github(String text) {
            return switch (text) {
                case "github.event_name" -> event.name();
                case "github.ref" -> event.ref();
                case "github.ref_name" -> event.refName();
                case "github.workspace" -> workspace.toString();
                default -> text.startsWith("github.event.inputs.") && event.name().equals("push") ? "" : null;
            };
        }
    }

    private static Map<String, String> evaluated(Map<String, Object> raw, Context context) {
        Map<String, String> out = new LinkedHashMap<>();
        raw.forEach((k, v) -> out.put(k, context.substitute(String.valueOf(v))));
        return out;
    }

    private static String unwrapped(String condition) {
        String c = condition.strip();
        return c.startsWith("${{") && c.endsWith("}}") ? c.substring(3, c.length() - 2) : c;
    }

    private static boolean truthy(String value) {
        return !value.isEmpty() && !value.equals("false") && !value.equals("0");
    }

    /** {@code name=value} lines, and {@code name<<DELIMITER} blocks, as GitHub reads its command files. */
    private static Map<String, String> keyValues(Path file) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int heredoc = line.indexOf("<<");
            int equals = line.indexOf('=');
            if (heredoc > 0 && (equals < 0 || heredoc < equals)) {
                String delimiter = line.substring(heredoc + 2);
                List<String> block = new ArrayList<>();
                while (++i < lines.size() && !lines.get(i).equals(delimiter)) {
                    block.add(lines.get(i));
                }
                values.put(line.substring(0, heredoc), String.join("\n", block));
            } else if (equals > 0) {
                values.put(line.substring(0, equals), line.substring(equals + 1));
            } else if (!line.isBlank()) {
                throw new AssertionError("not a name=value line in " + file.getFileName() + ": " + line);
            }
        }
        return values;
    }

    /**
     * A local Maven repository that reads ~/.m2's artifacts through symbolic links, except
     * {@code dev.mlserver}: a build in it finds the mlserver artifacts only where it provides them,
     * and what it resolves from there lands here, not in ~/.m2.
     */
    private static Path mavenRepository(Path dir) throws IOException {
        Path shared = Path.of(System.getProperty("user.home"), ".m2", "repository");
        link(shared, dir, "dev");
        Path dev = Files.createDirectories(dir.resolve("dev"));
        if (Files.isDirectory(shared.resolve("dev"))) {
            link(shared.resolve("dev"), dev, "mlserver");
        }
        return dir;
    }

    private static void link(Path from, Path to, String except) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(from)) {
            for (Path entry : entries) {
                if (!entry.getFileName().toString().equals(except)) {
                    Files.createSymbolicLink(to.resolve(entry.getFileName().toString()), entry);
                }
            }
        }
    }

    private static String onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new AssertionError(command + " is not on the PATH");
    }

    private static String git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(process.exitValue()).as("git %s:%n%s", String.join(" ", args), printed).isZero();
        return printed;
    }

    private static void known(Map<String, ?> map, Set<String> keys, String where) {
        assertThat(keys).as("keys of %s this runner knows", where).containsAll(map.keySet());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String where) {
        assertThat(o).as(where).isInstanceOf(Map.class);
        Map<String, Object> out = new LinkedHashMap<>();
        ((Map<Object, Object>) o).forEach((k, v) -> out.put(Boolean.TRUE.equals(k) ? "on" : String.valueOf(k), v));
        return out;
    }

    private static Map<String, Object> yaml(String text) {
        return map(new Yaml(new SafeConstructor(new LoaderOptions())).load(text), "workflow");
    }
}
