package dev.mlserver.api.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An ONNX model artifact of a plugin, opened as one ONNX Runtime session.
 *
 * <p>Sessions are shared by content: two plugins that ship the same model bytes (say, one
 * sentence encoder under two heads) hold one session between them, closed when the last of them
 * closes. A session is thread-safe; predictions of one classifier share it.
 */
public final class OnnxModel implements AutoCloseable {
    private static final Map<String, Shared> SESSIONS = new ConcurrentHashMap<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Shared shared;
    private boolean closed;
    /** Per thread, the one-row tensors {@link #runFloats(String, float[][], String)} reuses. */
    private final ThreadLocal<OneRow> oneRow = new ThreadLocal<>();
    private final Queue<OneRow> oneRows = new ConcurrentLinkedQueue<>();

    private OnnxModel(Shared shared) {
        this.shared = shared;
    }

    /** Opens {@code artifacts/<artifact>} of the plugin behind {@code context}. */
    public static OnnxModel open(ClassifierContext context, String artifact) {
        return open(context.artifact(artifact), context.intraOpThreads(), context.name() + ":" + artifact);
    }

    /**
     * Opens a model from its bytes with {@code intraOpThreads} threads per run.
     *
     * @param origin names the model in error messages
     */
    public static OnnxModel open(byte[] model, int intraOpThreads, String origin) {
        String key = sha256(model) + "/" + intraOpThreads;
        Shared shared = SESSIONS.compute(key, (k, existing) -> {
            if (existing != null) {
                existing.references++;
                return existing;
            }
            return new Shared(k, createSession(model, intraOpThreads, origin));
        });
        return new OnnxModel(shared);
    }

    private static OrtSession createSession(byte[] model, int intraOpThreads, String origin) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(Math.max(1, intraOpThreads));
            options.setInterOpNumThreads(1);
            // Measured on 2 cores: a session shared by worker threads runs faster without the
            // arena and memory patterns, which serialise concurrent runs.
            options.setCPUArenaAllocator(false);
            options.setMemoryPatternOptimization(false);
            return environment().createSession(model, options);
        } catch (OrtException e) {
            throw new ClassifierException("cannot open ONNX model " + origin + ": " + e.getMessage(), e);
        }
    }

    /** The process-wide ONNX Runtime environment. */
    public static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment();
    }

    /** The session, to run with inputs from {@link Tensors}. */
    public OrtSession session() {
        return shared.session;
    }

    /** A value from the model's custom metadata. */
    public Optional<String> metadata(String key) {
        try {
            return Optional.ofNullable(shared.session.getMetadata().getCustomMetadata().get(key));
        } catch (OrtException e) {
            throw new ClassifierException("cannot read model metadata: " + e.getMessage(), e);
        }
    }

    /** The class labels stored in the model's metadata under {@code labels}. */
    public List<String> labels() {
        return stringList("labels");
    }

    /** The feature names stored in the model's metadata under {@code feature_names}. */
    public List<String> featureNames() {
        return stringList("feature_names");
    }

    /**
     * A list from the model metadata, stored either as a JSON array of strings or as a
     * comma-separated string.
     */
    public List<String> stringList(String key) {
        String raw = metadata(key).orElseThrow(() ->
                new ClassifierException("the model has no '" + key + "' in its metadata"));
        String trimmed = raw.trim();
        if (trimmed.startsWith("[")) {
            try {
                return List.of(JSON.readValue(trimmed, String[].class));
            } catch (JsonProcessingException e) {
                throw new ClassifierException("model metadata '" + key + "' is not a JSON list of strings", e);
            }
        }
        return Arrays.stream(trimmed.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** The names of the model's inputs, in declaration order. */
    public List<String> inputNames() {
        return List.copyOf(shared.session.getInputNames());
    }

    /**
     * Runs the model and returns output {@code output} as a matrix of floats, one row per
     * instance. The inputs are closed here.
     */
    public float[][] runFloats(Map<String, OnnxTensor> inputs, String output) {
        try (OrtSession.Result result = shared.session.run(inputs, only(output))) {
            return Tensors.floatRows(result.get(0));
        } catch (OrtException e) {
            throw runFailed(e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** A failed run as a classifier error whose message is ONNX Runtime's, on one line. */
    public static ClassifierException runFailed(OrtException e) {
        return new ClassifierException("model run failed: " + oneLine(e.getMessage()), e);
    }

    /** ONNX Runtime's messages span lines and can be long: this one on one line, at most 400 characters. */
    public static String oneLine(String message) {
        if (message == null) {
            return "";
        }
        String flat = message.replaceAll("\\s*\\R\\s*", " ").trim();
        return flat.length() <= 400 ? flat : flat.substring(0, 400) + "...";
    }

    private Set<String> only(String output) {
        if (!shared.session.getOutputNames().contains(output)) {
            throw new ClassifierException("the model has no output named '" + output + "'");
        }
        return Set.of(output);
    }

    /**
     * Runs a model that takes one float matrix, {@code input}, and gives output {@code output} as
     * a float matrix: one row per instance. Same answers as {@link #runFloats(Map, String)} with
     * {@link Tensors#floats}, but a single row, the common case of an online request, goes
     * through two small native tensors each calling thread makes once and reuses, so a run
     * allocates no native memory and converts no output to a new Java tensor. Measured on
     * iris, 2 cores: about 3 µs per run against 5.5 µs.
     */
    public float[][] runFloats(String input, float[][] rows, String output) {
        if (rows.length == 1) {
            OneRow pinned = oneRow(input, rows[0].length, output);
            if (pinned != null) {
                return new float[][] {pinned.run(shared.session, rows[0])};
            }
        }
        return runFloats(Map.of(input, Tensors.floats(rows)), output);
    }

    /** This thread's one-row tensors for the three arguments; null when the model's shapes do not allow them. */
    private OneRow oneRow(String input, int columns, String output) {
        OneRow pinned = oneRow.get();
        if (pinned == null) {
            pinned = OneRow.of(shared.session, input, columns, output);
            oneRow.set(pinned);
            oneRows.add(pinned);
        }
        return pinned.fits(input, columns, output) ? pinned : null;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        oneRows.forEach(OneRow::close);
        SESSIONS.computeIfPresent(shared.key, (k, s) -> {
            if (--s.references > 0) {
                return s;
            }
            try {
                s.session.close();
            } catch (OrtException e) {
                throw new ClassifierException("cannot close ONNX session: " + e.getMessage(), e);
            }
            return null;
        });
    }

    /** How many distinct ONNX sessions are open in this process (shared ones count once). */
    public static int openSessions() {
        return SESSIONS.size();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A one-row input tensor and the output tensor the model writes into, both over direct
     * buffers owned here. {@code usable} is false when the model does not take a {@code [n,
     * columns]} float input or give a {@code [n, k]} float output with k fixed: such a model runs
     * the general way.
     */
    private static final class OneRow {
        final String input;
        final int columns;
        final String output;
        final boolean usable;
        final FloatBuffer in;
        final FloatBuffer out;
        final Map<String, OnnxTensor> inputs;
        final Map<String, OnnxTensor> outputs;

        private OneRow(String input, int columns, String output, boolean usable, FloatBuffer in, FloatBuffer out,
                Map<String, OnnxTensor> inputs, Map<String, OnnxTensor> outputs) {
            this.input = input;
            this.columns = columns;
            this.output = output;
            this.usable = usable;
            this.in = in;
            this.out = out;
            this.inputs = inputs;
            this.outputs = outputs;
        }

        static OneRow of(OrtSession session, String input, int columns, String output) {
            try {
                int width = width(session.getOutputInfo().get(output));
                TensorInfo takes = floatMatrix(session.getInputInfo().get(input));
                if (width <= 0 || takes == null || session.getNumInputs() != 1 || !fitsWidth(takes, columns)) {
                    return new OneRow(input, columns, output, false, null, null, Map.of(), Map.of());
                }
                FloatBuffer in = direct(columns);
                FloatBuffer out = direct(width);
                OnnxTensor x = OnnxTensor.createTensor(environment(), in, new long[] {1, columns});
                OnnxTensor y = OnnxTensor.createTensor(environment(), out, new long[] {1, width});
                return new OneRow(input, columns, output, true, in, out, Map.of(input, x), Map.of(output, y));
            } catch (OrtException e) {
                throw new ClassifierException("cannot create tensor: " + e.getMessage(), e);
            }
        }

        boolean fits(String input, int columns, String output) {
            return usable && this.columns == columns && this.input.equals(input) && this.output.equals(output);
        }

        float[] run(OrtSession session, float[] row) {
            in.put(0, row);
            try (OrtSession.Result ignored = session.run(inputs, Set.of(), outputs)) {
                float[] answer = new float[out.capacity()];
                out.get(0, answer);
                return answer;
            } catch (OrtException e) {
                throw runFailed(e);
            }
        }

        void close() {
            inputs.values().forEach(OnnxTensor::close);
            outputs.values().forEach(OnnxTensor::close);
        }

        /** k of a {@code [n, k]} float tensor with k fixed; 0 for anything else, or no such output. */
        private static int width(NodeInfo node) {
            TensorInfo info = node == null ? null : floatMatrix(node);
            return info == null || info.getShape()[1] <= 0 ? 0 : (int) info.getShape()[1];
        }

        private static TensorInfo floatMatrix(NodeInfo node) {
            return node != null && node.getInfo() instanceof TensorInfo t && t.type == OnnxJavaType.FLOAT
                    && t.getShape().length == 2 && (t.getShape()[0] <= 0 || t.getShape()[0] == 1) ? t : null;
        }

        private static boolean fitsWidth(TensorInfo takes, int columns) {
            return columns > 0 && (takes.getShape()[1] <= 0 || takes.getShape()[1] == columns);
        }

        private static FloatBuffer direct(int floats) {
            return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
    }

    private static final class Shared {
        final String key;
        final OrtSession session;
        int references = 1;

        Shared(String key, OrtSession session) {
            this.key = key;
            this.session = session;
        }
    }
}
