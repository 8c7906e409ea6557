import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.api.Prediction;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.jar.JarFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The in-process side of {@code bench/text-cpu.sh}: a classifier plugin's own class (for
 * {@code sentiment}: the Java WordPiece tokenizer, the MiniLM encoder's ONNX Runtime call and the
 * head's) opened on the artifacts and card of its jar, with the gateway's ONNX setting (one
 * intra-op thread), and called in a loop with one instance per call from {@code THREADS} threads,
 * as the gateway's bulkhead calls it. No HTTP, JSON body, metrics or logs.
 *
 * <p>Usage: {@code TextCpu PLUGIN_JAR INSTANCE_JSON_FILE THREADS WARMUP_SECONDS}. It warms up, prints
 * {@code ready}, then for each line {@code run SECONDS} on standard input runs the loop that long
 * and prints {@code calls cpu_us_per_call calls_per_s}, where the CPU is this JVM's utime + stime
 * from {@code /proc/self/stat} over the run (every thread: the loop, the JIT, the GC), measured as
 * the script measures the gateway's.
 */
public final class TextCpu {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TICK_US = 1_000_000L / ticksPerSecond();

    public static void main(String[] args) throws Exception {
        // the protocol owns standard output; logs and anything else go to standard error
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        Path jar = Path.of(args[0]);
        JsonNode instance = JSON.readTree(Files.readAllBytes(Path.of(args[1])));
        int threads = Integer.parseInt(args[2]);
        double warmup = Double.parseDouble(args[3]);
        Classifier classifier = open(jar);
        try {
            List<Prediction> first = classifier.predict(List.of(instance));
            System.err.println("in-process " + jar.getFileName() + ": " + first.get(0));
            loop(classifier, instance, threads, warmup);
            protocol.println("ready");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                String[] words = line.trim().split("\\s+");
                if (words.length != 2 || !words[0].equals("run")) {
                    protocol.println("error: expected 'run SECONDS', got '" + line + "'");
                    continue;
                }
                long before = cpuMicros();
                long calls = loop(classifier, instance, threads, Double.parseDouble(words[1]));
                long cpu = cpuMicros() - before;
                protocol.printf(Locale.ROOT, "%d %.1f %.1f%n", calls, (double) cpu / Math.max(calls, 1),
                        calls / Double.parseDouble(words[1]));
            }
        } finally {
            classifier.close();
        }
    }

    /** Calls predict with one instance from each of {@code threads} threads for {@code seconds}; the number of calls. */
    private static long loop(Classifier classifier, JsonNode instance, int threads, double seconds) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder calls = new LongAdder();
        List<JsonNode> one = List.of(instance);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                while (!stop.get()) {
                    classifier.predict(one);
                    calls.increment();
                }
            }, "text-cpu-" + t);
            workers[t].start();
        }
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        return calls.sum();
    }

    /** The plugin's classifier class (from its extension index), opened as the gateway opens it. */
    private static Classifier open(Path jarPath) throws Exception {
        try (JarFile jar = new JarFile(jarPath.toFile())) {
            String className = new String(read(jar, "META-INF/extensions.idx"), StandardCharsets.UTF_8).lines()
                    .map(String::trim).filter(l -> !l.isEmpty()).findFirst().orElseThrow();
            Object tree = new Yaml(new SafeConstructor(new LoaderOptions()))
                    .load(new String(read(jar, "mlserver.yaml"), StandardCharsets.UTF_8));
            JsonNode card = JSON.valueToTree(tree);
            Classifier classifier = (Classifier) Class.forName(className).getDeclaredConstructor().newInstance();
            classifier.open(context(jar, card));
            return classifier;
        }
    }

    private static ClassifierContext context(JarFile jar, JsonNode card) {
        String name = card.path("name").asText("classifier");
        Logger logger = LoggerFactory.getLogger("bench." + name);
        return new ClassifierContext() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String version() {
                return "bench";
            }

            @Override
            public JsonNode config() {
                return card;
            }

            @Override
            public byte[] artifact(String artifact) {
                try {
                    return read(jar, "artifacts/" + artifact);
                } catch (IOException e) {
                    throw new ClassifierException("artifact '" + artifact + "': " + e.getMessage(), e);
                }
            }

            @Override
            public boolean hasArtifact(String artifact) {
                return jar.getEntry("artifacts/" + artifact) != null;
            }

            @Override
            public int intraOpThreads() {
                return 1;
            }

            @Override
            public Logger logger() {
                return logger;
            }
        };
    }

    private static byte[] read(JarFile jar, String entry) throws IOException {
        if (jar.getEntry(entry) == null) {
            throw new IOException("no " + entry + " in " + jar.getName());
        }
        try (InputStream in = jar.getInputStream(jar.getEntry(entry))) {
            return in.readAllBytes();
        }
    }

    /** utime + stime of this process, in microseconds. */
    private static long cpuMicros() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14, stime field 15
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * TICK_US;
    }

    private static long ticksPerSecond() {
        String ticks = System.getenv().getOrDefault("CLK_TCK", "100");
        return Long.parseLong(ticks.trim());
    }
}
