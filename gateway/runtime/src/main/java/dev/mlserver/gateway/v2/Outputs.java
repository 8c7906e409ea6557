package dev.mlserver.gateway.v2;

import dev.mlserver.api.Prediction;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A prediction's values in the order of the model's output tensors. */
final class Outputs {
    private Outputs() {}

    /** The probabilities of {@code p} in the order of the model's labels (0 for a label it does not have). */
    static float[] probabilities(Model model, Prediction p) {
        List<String> labels = model.signature().labels();
        if (labels.equals(p.labels())) {
            return p.probabilities();
        }
        float[] out = new float[labels.size()];
        for (int i = 0; i < out.length; i++) {
            int at = p.labels().indexOf(labels.get(i));
            out[i] = at < 0 ? 0 : p.probabilities()[at];
        }
        return out;
    }

    /**
     * The elements of {@code output} for {@code predictions} as raw bytes, the layout of gRPC's
     * {@code raw_output_contents} and of the binary tensor data extension (and of what
     * {@link Tensor#fromRaw} reads): little-endian, row-major; a BYTES element a 4-byte length,
     * then its UTF-8 bytes.
     */
    static byte[] raw(Model model, List<Prediction> predictions, String output) {
        if (output.equals(Signature.LABEL)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer length = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (Prediction p : predictions) {
                byte[] label = p.label().getBytes(StandardCharsets.UTF_8);
                out.write(length.putInt(0, label.length).array(), 0, 4);
                out.write(label, 0, label.length);
            }
            return out.toByteArray();
        }
        ByteBuffer out = ByteBuffer.allocate(predictions.size() * model.signature().labels().size() * 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (Prediction p : predictions) {
            for (float v : probabilities(model, p)) {
                out.putFloat(v);
            }
        }
        return out.array();
    }
}
