package dev.mlserver.api.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

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
        try (OrtSession.Result result = shared.session.run(inputs)) {
            OnnxValue value = result.get(output).orElseThrow(() ->
                    new ClassifierException("the model has no output named '" + output + "'"));
            return Tensors.floatRows(value);
        } catch (OrtException e) {
            throw new ClassifierException("model run failed: " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
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
