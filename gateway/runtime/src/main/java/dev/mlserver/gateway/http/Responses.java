package dev.mlserver.gateway.http;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.Prediction;
import dev.mlserver.gateway.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes response bodies: streamed straight to bytes, the metadata block pre-serialised. */
final class Responses {
    static final CharSequence JSON_TYPE = HttpHeaders.createOptimized("application/json");

    private Responses() {}

    /**
     * A prediction response; {@code "cached": true} is added only when the cache gave every
     * answer, {@code "truncated": true} with {@code "truncated_instances"} only when the model read
     * only the beginning of some instance. Probabilities are float32 and written in their shortest float form (0.9498, not the
     * double widening 0.9497998952865601).
     */
    static Buffer predictions(List<Prediction> predictions, boolean probabilities, byte[] metadataJson, double timeMs,
                              boolean cached) {
        ByteArrayBuilder out = new ByteArrayBuilder(256 + metadataJson.length);
        // the frame and the pre-serialised metadata are copied as bytes; only the predictions are generated
        out.write(PREDICTIONS);
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartArray();
            for (Prediction p : predictions) {
                if (probabilities) {
                    g.writeStartObject();
                    List<String> labels = p.labels();
                    for (int i = 0; i < labels.size(); i++) {
                        g.writeFieldName(labels.get(i));
                        g.writeNumber(p.probability(i));
                    }
                    g.writeEndObject();
                } else {
                    g.writeString(p.label());
                }
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write(METADATA);
        out.write(metadataJson);
        out.write(TIME_MS);
        out.write(Double.toString(Math.round(timeMs * 1000) / 1000.0).getBytes(StandardCharsets.US_ASCII));
        if (cached) {
            out.write(CACHED);
        }
        truncated(predictions, out);
        out.write('}');
        return Buffer.buffer(out.toByteArray());
    }

    private static final byte[] PREDICTIONS = ascii("{\"predictions\":");
    private static final byte[] METADATA = ascii(",\"metadata\":");
    private static final byte[] TIME_MS = ascii(",\"time_ms\":");
    private static final byte[] CACHED = ascii(",\"cached\":true");
    private static final byte[] TRUNCATED = ascii(",\"truncated\":true,\"truncated_instances\":[");

    /** {@code "truncated": true} and the instances' indexes when the model read only the beginning of some. */
    private static void truncated(List<Prediction> predictions, ByteArrayBuilder out) {
        boolean first = true;
        for (int i = 0; i < predictions.size(); i++) {
            if (predictions.get(i).truncated()) {
                out.write(first ? TRUNCATED : new byte[] {','});
                out.write(Integer.toString(i).getBytes(StandardCharsets.US_ASCII));
                first = false;
            }
        }
        if (!first) {
            out.write(']');
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static Buffer error(ErrorCode code, String message, JsonNode metadata) {
        var root = Json.MAPPER.createObjectNode();
        root.putObject("error").put("code", code.wire()).put("message", message);
        if (metadata != null) {
            root.set("metadata", metadata);
        }
        return json(root);
    }

    /** One plugin jar's state as every route shows it: jar, state, classifier, version, sha256, reason, since. */
    static com.fasterxml.jackson.databind.node.ObjectNode pluginStatus(dev.mlserver.gateway.registry.PluginStatus s) {
        var p = Json.MAPPER.createObjectNode();
        p.put("jar", s.jar());
        p.put("state", s.state().wire());
        p.put("classifier", s.classifier());
        p.put("version", s.version());
        p.put("sha256", s.sha256());
        if (s.reason() != null) {
            p.put("reason", s.reason());
        }
        p.put("since", s.since().toString());
        return p;
    }

    static Buffer json(Object value) {
        try {
            return Buffer.buffer(Json.MAPPER.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void send(HttpServerResponse response, int status, Buffer body) {
        response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON_TYPE).end(body);
    }
}
