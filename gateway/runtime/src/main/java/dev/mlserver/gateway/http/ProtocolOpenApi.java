package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import dev.mlserver.gateway.registry.LoadedClassifier;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * The Open Inference Protocol's REST routes in the OpenAPI document: each {@link ProtocolRoute}
 * once, a model's routes once for each classifier the caller may call, with the protocol's
 * request, response and error bodies as schemas.
 */
final class ProtocolOpenApi {
    static final String TAG = "open-inference-protocol";
    /** The tensor element types the protocol's routes read and write. */
    static final List<String> DATATYPES = List.of("BOOL", "INT32", "INT64", "FP32", "FP64", "BYTES");
    private static final String SCHEMAS = "#/components/schemas/";

    private ProtocolOpenApi() {}

    static void tag(ArrayNode tags) {
        tags.addObject().put("name", TAG).put("description", "The Open Inference Protocol (KServe's Predict Protocol, "
                + "version 2) over REST: the same classifiers as tensors. gRPC inference.GRPCInferenceService is on grpc.port.");
    }

    static void addPaths(ObjectNode paths, Collection<LoadedClassifier> visible) {
        for (ProtocolRoute route : ProtocolRoute.values()) {
            if (!route.perModel()) {
                add(paths, route, route.openApiPath(""), operation(route, null));
                continue;
            }
            for (LoadedClassifier c : visible) {
                add(paths, route, route.openApiPath(c.info().name()), operation(route, c.info()));
            }
        }
    }

    private static void add(ObjectNode paths, ProtocolRoute route, String path, ObjectNode op) {
        ObjectNode item = paths.has(path) ? (ObjectNode) paths.get(path) : paths.putObject(path);
        item.set(route.method().name().toLowerCase(Locale.ROOT), op);
    }

    private static ObjectNode operation(ProtocolRoute route, ClassifierInfo ci) {
        ObjectNode op = Json.MAPPER.createObjectNode();
        op.putArray("tags").add(TAG);
        String prefix = ci == null ? "" : ci.name().replace('-', '_') + "_";
        op.put("operationId", prefix + "v2_" + route.name().toLowerCase(Locale.ROOT));
        String model = ci == null ? "" : ci.name();
        op.put("summary", switch (route) {
            case SERVER -> "Server metadata: name, version and protocol extensions";
            case LIVE -> "Server liveness: 200 while the process runs";
            case SERVER_READY -> "Server readiness: 200 once the plugins are loaded and warmed, 400 before or while draining";
            case METADATA -> model + ": model metadata (versions, platform, input and output tensors)";
            case READY -> model + ": 200 while it serves, 400 while the gateway drains";
            case INFER -> model + ": inference on input tensors";
            case VERSION_METADATA -> model + ": metadata of one loaded version";
            case VERSION_READY -> model + ": readiness of one loaded version";
            case VERSION_INFER -> model + ": inference on one loaded version";
        });
        if (route.pinned()) {
            ObjectNode version = op.putArray("parameters").addObject();
            version.put("name", "version").put("in", "path").put("required", true)
                    .put("description", "A loaded version of " + model + ": GET /v2/models/" + model + " lists them.");
            version.putObject("schema").put("type", "string").put("example", ci.version());
        }
        ObjectNode responses = op.putObject("responses");
        ObjectNode ok = responses.putObject("200").put("description", "OK");
        switch (route) {
            case SERVER -> json(ok, serverMetadata());
            case LIVE -> json(ok, flag("live"));
            case SERVER_READY -> {
                json(ok, flag("ready"));
                json(responses.putObject("400").put("description", "Not ready: {\"ready\": false}."), flag("ready"));
            }
            case METADATA, VERSION_METADATA -> json(ok, ref("V2ModelMetadata"));
            case READY, VERSION_READY -> {
                json(ok, modelReady());
                json(responses.putObject("400").put("description", "Not ready: the gateway is draining."), modelReady());
            }
            case INFER, VERSION_INFER -> {
                ObjectNode body = op.putObject("requestBody").put("required", true)
                        .put("description", "Input tensors: GET /v2/models/" + model + " names the ones " + model + " takes.");
                body.putObject("content").putObject("application/json").set("schema", ref("V2InferenceRequest"));
                json(ok, ref("V2InferenceResponse"));
                error(responses, 400, "A tensor that is not valid or does not fit the model, or a body that is not JSON.");
                error(responses, 413, "The body is larger than server.max_body_bytes.");
                error(responses, 415, "A Content-Type that is not JSON.");
                error(responses, 503, "The classifier is saturated or the gateway is draining; retry after Retry-After seconds.");
                error(responses, 504, "The prediction ran longer than the classifier's timeout_ms.");
            }
        }
        if (route.perModel()) {
            error(responses, 404, "No model of that name, or no loaded version of that number.");
        }
        if (route.access() != Access.OPEN) {
            error(responses, 401, "Only where bearer tokens are configured: no token was sent, or it is not valid.");
            error(responses, 403, "Only where bearer tokens are configured: the token may not use this model.");
        }
        return op;
    }

    private static void error(ObjectNode responses, int status, String description) {
        ObjectNode response = responses.putObject(Integer.toString(status)).put("description", description);
        if (status == 503) {
            response.putObject("headers").putObject("Retry-After").put("$ref", "#/components/headers/Retry-After");
        }
        json(response, ref("V2Error"));
    }

    /** The protocol's schemas, added to {@code components/schemas}. */
    static void schemas(ObjectNode schemas) {
        ObjectNode error = schemas.putObject("V2Error").put("type", "object")
                .put("description", "Every error of the Open Inference Protocol's routes: one message.");
        error.putArray("required").add("error");
        error.putObject("properties").putObject("error").put("type", "string");

        ObjectNode input = schemas.putObject("V2RequestInput").put("type", "object");
        input.putArray("required").add("name").add("shape").add("datatype").add("data");
        ObjectNode p = input.putObject("properties");
        p.putObject("name").put("type", "string");
        shape(p.putObject("shape"), 0);
        datatype(p.putObject("datatype"));
        p.putObject("parameters").put("type", "object");
        p.putObject("data").put("type", "array").put("description", "The elements in row-major order, flat or nested as the "
                + "shape; BYTES elements are UTF-8 strings.");

        ObjectNode request = schemas.putObject("V2InferenceRequest").put("type", "object");
        request.putArray("required").add("inputs");
        ObjectNode rp = request.putObject("properties");
        rp.putObject("id").put("type", "string").put("description", "Echoed in the response.");
        rp.putObject("parameters").put("type", "object");
        rp.putObject("inputs").put("type", "array").put("minItems", 1).putObject("items").put("$ref", SCHEMAS + "V2RequestInput");
        ObjectNode output = rp.putObject("outputs").put("type", "array").put("description", "The outputs to send back "
                + "(label, probabilities); all of them when absent.").putObject("items").put("type", "object");
        output.putArray("required").add("name");
        output.putObject("properties").putObject("name").putArray("enum").add("label").add("probabilities");

        ObjectNode tensor = schemas.putObject("V2ResponseOutput").put("type", "object");
        tensor.putArray("required").add("name").add("shape").add("datatype").add("data");
        ObjectNode tp = tensor.putObject("properties");
        tp.putObject("name").put("type", "string");
        shape(tp.putObject("shape"), 0);
        datatype(tp.putObject("datatype"));
        tp.putObject("data").put("type", "array");

        ObjectNode response = schemas.putObject("V2InferenceResponse").put("type", "object");
        response.putArray("required").add("model_name").add("outputs");
        ObjectNode sp = response.putObject("properties");
        sp.putObject("model_name").put("type", "string");
        sp.putObject("model_version").put("type", "string");
        sp.putObject("id").put("type", "string");
        sp.putObject("parameters").put("type", "object").put("description", "The classifier's metadata block: repository, "
                + "classifier, version, git_tag, git_commit, trained_at, api_version, model_metrics (as JSON text).");
        sp.putObject("outputs").put("type", "array").putObject("items").put("$ref", SCHEMAS + "V2ResponseOutput");

        ObjectNode spec = schemas.putObject("V2TensorMetadata").put("type", "object");
        spec.putArray("required").add("name").add("datatype").add("shape");
        ObjectNode mp = spec.putObject("properties");
        mp.putObject("name").put("type", "string");
        datatype(mp.putObject("datatype"));
        shape(mp.putObject("shape"), -1);

        ObjectNode metadata = schemas.putObject("V2ModelMetadata").put("type", "object");
        metadata.putArray("required").add("name").add("platform").add("inputs").add("outputs");
        ObjectNode mdp = metadata.putObject("properties");
        mdp.putObject("name").put("type", "string");
        mdp.putObject("versions").put("type", "array").putObject("items").put("type", "string");
        mdp.putObject("platform").put("type", "string");
        mdp.putObject("inputs").put("type", "array").putObject("items").put("$ref", SCHEMAS + "V2TensorMetadata");
        mdp.putObject("outputs").put("type", "array").putObject("items").put("$ref", SCHEMAS + "V2TensorMetadata");
    }

    private static void shape(ObjectNode shape, int minimum) {
        shape.put("type", "array").put("minItems", 1).put("maxItems", 8).putObject("items").put("type", "integer")
                .put("minimum", minimum);
    }

    private static void datatype(ObjectNode datatype) {
        ArrayNode values = datatype.put("type", "string").putArray("enum");
        DATATYPES.forEach(values::add);
    }

    private static ObjectNode serverMetadata() {
        ObjectNode schema = Json.MAPPER.createObjectNode().put("type", "object");
        schema.putArray("required").add("name").add("version").add("extensions");
        ObjectNode p = schema.putObject("properties");
        p.putObject("name").put("type", "string");
        p.putObject("version").put("type", "string");
        p.putObject("extensions").put("type", "array").putObject("items").put("type", "string");
        return schema;
    }

    private static ObjectNode modelReady() {
        ObjectNode schema = Json.MAPPER.createObjectNode().put("type", "object");
        schema.putArray("required").add("name").add("ready");
        ObjectNode p = schema.putObject("properties");
        p.putObject("name").put("type", "string");
        p.putObject("version").put("type", "string");
        p.putObject("ready").put("type", "boolean");
        return schema;
    }

    private static ObjectNode flag(String name) {
        ObjectNode schema = Json.MAPPER.createObjectNode().put("type", "object");
        schema.putArray("required").add(name);
        schema.putObject("properties").putObject(name).put("type", "boolean");
        return schema;
    }

    private static ObjectNode ref(String schema) {
        return Json.MAPPER.createObjectNode().put("$ref", SCHEMAS + schema);
    }

    private static void json(ObjectNode response, ObjectNode schema) {
        response.putObject("content").putObject("application/json").set("schema", schema);
    }
}
