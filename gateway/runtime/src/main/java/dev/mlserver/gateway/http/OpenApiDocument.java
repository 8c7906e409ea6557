package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.LoadedClassifier;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The OpenAPI 3.1 description of what the gateway serves right now, for one caller: each
 * documented route of the {@link RouteTable} once, a classifier route once for each classifier
 * the caller may call, with that classifier's input schema, example, labels and metadata block,
 * and every error status; then the Open Inference Protocol's routes ({@link ProtocolOpenApi}),
 * a model's routes for the same classifiers. Built from the classifiers loaded at the moment it
 * is asked for.
 */
final class OpenApiDocument {
    static final String VERSION = "3.1.0";

    /** Where each error status comes from, as the operation descriptions say it. */
    private static final Map<Integer, String> WHEN = Map.ofEntries(
            Map.entry(400, "The body is not JSON, exceeds a parser limit, or an instance does not fit the input schema."),
            Map.entry(401, "Only where bearer tokens are configured: no token was sent, or it is not valid."),
            Map.entry(403, "Only where bearer tokens are configured: the token may not use this route or classifier."),
            Map.entry(404, "No classifier of that name is served."),
            Map.entry(405, "The route exists for another method."),
            Map.entry(413, "The body is larger than server.max_body_bytes."),
            Map.entry(415, "A Content-Type that is not JSON."),
            Map.entry(429, "Kept for per-caller quotas."),
            Map.entry(500, "A bug; the message quotes the request id to look up in the logs."),
            Map.entry(503, "The classifier is saturated, not ready, or the gateway is draining; retry after Retry-After seconds."),
            Map.entry(504, "The prediction ran longer than the classifier's timeout_ms."));

    private OpenApiDocument() {}

    /** The document of {@code table} for a caller who may see the classifiers in {@code visible}. */
    static ObjectNode build(RouteTable table, Collection<LoadedClassifier> visible, GatewayConfig config,
                            String gatewayVersion) {
        ObjectNode doc = object();
        doc.put("openapi", VERSION);
        ObjectNode info = doc.putObject("info");
        info.put("title", "mlserver");
        info.put("version", gatewayVersion);
        info.put("description", "Classifiers of " + config.repository() + " served by this gateway right now ("
                + visible.size() + "). Every prediction response carries the classifier's metadata block: "
                + "the exact version, git tag and commit that answered.");
        ArrayNode tags = doc.putArray("tags");
        for (LoadedClassifier c : visible) {
            tags.addObject().put("name", c.info().name()).put("description", c.info().description()
                    + " (version " + c.info().version() + ")");
        }
        tags.addObject().put("name", "gateway").put("description", "Health, listing, status and metrics of the gateway itself.");
        ProtocolOpenApi.tag(tags);

        ObjectNode paths = doc.putObject("paths");
        for (LoadedClassifier c : visible) {
            ClassifierInfo ci = c.info();
            for (Route route : table.routes()) {
                if (route.doc() instanceof Route.Doc.PerClassifier perClassifier) {
                    ObjectNode op = operation(route, ci.name(), operationId(ci.name(), route.name()));
                    op.setAll(perClassifier.operation().apply(ci));
                    add(paths, route, route.openApiPath(ci.name()), op);
                }
            }
        }
        for (Route route : table.routes()) {
            if (route.doc() instanceof Route.Doc.Gateway gateway) {
                ObjectNode op = operation(route, "gateway", route.name());
                op.setAll(gateway.operation().get());
                add(paths, route, route.openApiPath(""), op);
            }
        }
        ProtocolOpenApi.addPaths(paths, visible);
        ObjectNode components = components();
        ProtocolOpenApi.schemas((ObjectNode) components.get("schemas"));
        doc.set("components", components);
        return doc;
    }

    private static ObjectNode operation(Route route, String tag, String operationId) {
        ObjectNode op = object();
        op.putArray("tags").add(tag);
        op.put("operationId", operationId);
        return op;
    }

    /** Adds {@code op} under its path and method; a route behind a token also documents 401 and 403. */
    private static void add(ObjectNode paths, Route route, String path, ObjectNode op) {
        if (route.access() != Access.OPEN) {
            ObjectNode responses = op.has("responses") ? (ObjectNode) op.get("responses") : op.putObject("responses");
            for (int status : new int[] {401, 403}) {
                if (!responses.has(Integer.toString(status))) {
                    errors(responses, status);
                }
            }
        }
        ObjectNode item = paths.has(path) ? (ObjectNode) paths.get(path) : paths.putObject(path);
        item.set(route.method().name().toLowerCase(Locale.ROOT), op);
    }

    /** A predict or predict_proba operation of {@code ci}. */
    static ObjectNode predict(ClassifierInfo ci, boolean probabilities) {
        ObjectNode op = object();
        op.put("summary", probabilities ? ci.name() + ": class probabilities" : ci.name() + ": predict labels");
        op.put("description", (probabilities
                ? "Probabilities of every label (" + String.join(", ", ci.labels()) + ") for each instance."
                : "One label of " + ci.labels() + " for each instance.")
                + " Send one instance as `payload`, a list of up to " + ci.limits().maxBatch()
                + " as `payload` or `instances`. Version " + ci.version()
                + (ci.gitTag() == null ? "" : ", tag " + ci.gitTag())
                + (ci.gitCommit() == null ? "" : ", commit " + ci.gitCommit()) + ".");
        ObjectNode body = op.putObject("requestBody");
        body.put("required", true);
        ObjectNode media = body.putObject("content").putObject("application/json");
        media.set("schema", requestSchema(ci));
        media.putObject("examples").putObject("example")
                .put("summary", "the classifier's own example")
                .set("value", object().set("payload", ci.example().deepCopy()));

        ObjectNode responses = op.putObject("responses");
        ObjectNode ok = responses.putObject("200");
        ok.put("description", probabilities ? "Probabilities keyed by label, one object per instance."
                : "One label per instance, in request order.");
        ok.putObject("content").putObject("application/json").set("schema", predictionSchema(ci, probabilities));
        errors(responses, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503, 504);
        return op;
    }

    /** The body the predict routes accept, with the classifier's own schema for each instance. */
    static ObjectNode requestSchema(ClassifierInfo ci) {
        JsonNode instance = instanceSchema(ci);
        ObjectNode list = object().put("type", "array").put("minItems", 1).put("maxItems", ci.limits().maxBatch());
        list.set("items", instance.deepCopy());
        ObjectNode schema = object().put("type", "object");
        schema.put("description", "One instance or a list of instances as `payload`, or a list as `instances`.");
        ObjectNode properties = schema.putObject("properties");
        ObjectNode payload = properties.putObject("payload");
        payload.putArray("anyOf").add(instance.deepCopy()).add(list.deepCopy());
        properties.set("instances", list);
        ArrayNode oneOf = schema.putArray("oneOf");
        oneOf.addObject().putArray("required").add("payload");
        oneOf.addObject().putArray("required").add("instances");
        return schema;
    }

    private static JsonNode instanceSchema(ClassifierInfo ci) {
        JsonNode input = ci.inputSchema();
        if (input == null || !input.isObject()) {
            return object().put("description", "one instance, as the classifier reads it");
        }
        ObjectNode copy = ((ObjectNode) input).deepCopy();
        copy.remove("$schema");
        copy.remove("$id");
        return copy;
    }

    static ObjectNode predictionSchema(ClassifierInfo ci, boolean probabilities) {
        ObjectNode schema = object().put("type", "object");
        schema.putArray("required").add("predictions").add("metadata").add("time_ms");
        ObjectNode properties = schema.putObject("properties");
        ObjectNode predictions = properties.putObject("predictions").put("type", "array");
        if (probabilities) {
            ObjectNode item = predictions.putObject("items").put("type", "object").put("additionalProperties", false);
            ObjectNode labels = item.putObject("properties");
            ArrayNode required = item.putArray("required");
            for (String label : ci.labels()) {
                labels.putObject(label).put("type", "number").put("minimum", 0).put("maximum", 1);
                required.add(label);
            }
        } else {
            ArrayNode labels = predictions.putObject("items").put("type", "string").putArray("enum");
            ci.labels().forEach(labels::add);
        }
        properties.set("metadata", metadataSchema(ci));
        properties.putObject("time_ms").put("type", "number").put("minimum", 0)
                .put("description", "time spent in the gateway, in milliseconds");
        return schema;
    }

    /** The metadata block of this classifier's responses; its one example is the real block. */
    static ObjectNode metadataSchema(ClassifierInfo ci) {
        ObjectNode schema = object().put("type", "object");
        schema.put("description", "Which build answered: stamped into every response of " + ci.name() + ".");
        ObjectNode p = schema.putObject("properties");
        p.putObject("repository").put("type", "string");
        p.putObject("classifier").put("const", ci.name());
        p.putObject("version").put("const", ci.version());
        nullableString(p, "git_tag");
        nullableString(p, "git_commit");
        nullableString(p, "trained_at");
        p.putObject("api_version").put("const", ci.apiVersion());
        p.putObject("model_metrics").put("type", "object");
        ArrayNode required = schema.putArray("required");
        p.fieldNames().forEachRemaining(required::add);
        schema.putArray("examples").add(ci.metadata());
        return schema;
    }

    /** The describe operation of {@code ci}. */
    static ObjectNode describe(ClassifierInfo ci) {
        ObjectNode op = object();
        op.put("summary", ci.name() + ": metadata, labels, input schema, limits and an example");
        ObjectNode responses = op.putObject("responses");
        ObjectNode schema = object().put("type", "object");
        schema.putArray("required").add("name").add("version").add("labels").add("input_schema").add("example");
        ObjectNode p = schema.putObject("properties");
        p.putObject("name").put("const", ci.name());
        p.putObject("version").put("const", ci.version());
        p.putObject("labels").put("type", "array").putObject("items").put("type", "string");
        p.set("metadata", metadataSchema(ci));
        p.putObject("input_schema").put("type", "object");
        p.putObject("example").put("type", "object").put("description", "a body the predict routes accept");
        p.putObject("limits").put("type", "object");
        json(responses.putObject("200").put("description", "What " + ci.name() + " is and how to call it."), schema);
        errors(responses, 401, 403, 404);
        return op;
    }

    /** The readiness operation of {@code ci}. */
    static ObjectNode ready(ClassifierInfo ci) {
        ObjectNode op = object();
        op.put("summary", ci.name() + ": 200 while it serves");
        ObjectNode responses = op.putObject("responses");
        ObjectNode schema = object().put("type", "object");
        schema.putObject("properties").putObject("status").put("const", "ready");
        json(responses.putObject("200").put("description", ci.name() + " serves."), schema);
        errors(responses, 404, 503);
        return op;
    }

    /** A gateway GET operation answering a JSON object. */
    static ObjectNode gatewayJson(String summary) {
        ObjectNode op = gatewayGet(summary);
        json((ObjectNode) op.get("responses").get("200"), object().put("type", "object"));
        return op;
    }

    /** A gateway GET operation answering plain text. */
    static ObjectNode gatewayText(String summary) {
        ObjectNode op = gatewayGet(summary);
        ((ObjectNode) op.get("responses").get("200")).putObject("content").putObject("text/plain").putObject("schema")
                .put("type", "string");
        return op;
    }

    /** A gateway POST operation without a body, answering a JSON object. */
    static ObjectNode post(String summary) {
        return gatewayJson(summary);
    }

    /** Readiness: 200 or 503 with a reason. */
    static ObjectNode healthReady(String summary) {
        ObjectNode op = gatewayJson(summary);
        ((ObjectNode) op.get("responses")).putObject("503").put("description", "Not ready; the body's status says why.")
                .putObject("content").putObject("application/json").putObject("schema").put("type", "object");
        return op;
    }

    private static ObjectNode gatewayGet(String summary) {
        ObjectNode op = object();
        op.put("summary", summary);
        op.putObject("responses").putObject("200").put("description", "OK");
        return op;
    }

    private static ObjectNode components() {
        ObjectNode components = object();
        ObjectNode error = components.putObject("schemas").putObject("Error").put("type", "object");
        error.put("description", "Every error: a code and a safe message, plus the classifier's metadata when the request named one.");
        error.putArray("required").add("error");
        ObjectNode errorProps = error.putObject("properties");
        ObjectNode detail = errorProps.putObject("error").put("type", "object");
        detail.putArray("required").add("code").add("message");
        ObjectNode detailProps = detail.putObject("properties");
        ArrayNode all = detailProps.putObject("code").put("type", "string").putArray("enum");
        Arrays.stream(ErrorCode.values()).forEach(c -> all.add(c.wire()));
        detailProps.putObject("message").put("type", "string");
        errorProps.putObject("metadata").put("type", "object");
        components.putObject("headers").putObject("Retry-After")
                .put("description", "seconds to wait before retrying")
                .putObject("schema").put("type", "integer").put("minimum", 0);
        ObjectNode responses = components.putObject("responses");
        for (Map.Entry<Integer, List<ErrorCode>> e : codesByStatus().entrySet()) {
            int status = e.getKey();
            ObjectNode response = responses.putObject(responseName(status));
            response.put("description", WHEN.getOrDefault(status, "error") + " Codes: "
                    + e.getValue().stream().map(ErrorCode::wire).collect(Collectors.joining(", ")) + ".");
            if (status == 503) {
                response.putObject("headers").putObject("Retry-After").put("$ref", "#/components/headers/Retry-After");
            }
            ObjectNode media = response.putObject("content").putObject("application/json");
            media.putObject("schema").put("$ref", "#/components/schemas/Error");
        }
        return components;
    }

    private static void errors(ObjectNode responses, int... statuses) {
        for (int status : statuses) {
            responses.putObject(Integer.toString(status)).put("$ref", "#/components/responses/" + responseName(status));
        }
    }

    private static Map<Integer, List<ErrorCode>> codesByStatus() {
        Map<Integer, List<ErrorCode>> byStatus = new TreeMap<>();
        for (ErrorCode code : ErrorCode.values()) {
            byStatus.computeIfAbsent(code.status(), s -> new java.util.ArrayList<>()).add(code);
        }
        return byStatus;
    }

    private static String responseName(int status) {
        return "Error" + status;
    }

    private static String operationId(String classifier, String route) {
        return classifier.replace('-', '_') + "_" + route;
    }

    private static void nullableString(ObjectNode properties, String name) {
        properties.putObject(name).putArray("type").add("string").add("null");
    }

    private static void json(ObjectNode response, ObjectNode schema) {
        response.putObject("content").putObject("application/json").set("schema", schema);
    }

    private static ObjectNode object() {
        return Json.MAPPER.createObjectNode();
    }
}
