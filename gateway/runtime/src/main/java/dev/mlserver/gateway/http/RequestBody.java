package dev.mlserver.gateway.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A prediction request body: {@code {"payload": <instance>}}, {@code {"payload": [<instances>]}}
 * or {@code {"instances": [<instances>]}}.
 *
 * <p>A payload array whose elements are all numbers is one tabular instance in feature order,
 * not a list of numbers; a payload array of anything else is a list of instances.
 */
final class RequestBody {
    /** The mapper's tree reader, built once rather than on every request. */
    private static final ObjectReader TREE = Json.MAPPER.readerFor(JsonNode.class);

    private RequestBody() {}

    static List<JsonNode> instances(Buffer body, int maxBatch) {
        if (body == null || body.length() == 0) {
            throw invalid(ErrorCode.INVALID_JSON, "the request body is empty; send {\"payload\": ...}");
        }
        JsonNode root;
        try {
            root = TREE.readTree(body.getBytes());
        } catch (StreamConstraintsException e) {
            throw invalid(ErrorCode.INVALID_JSON, "the JSON body exceeds a limit: " + e.getOriginalMessage());
        } catch (JacksonException e) {
            throw invalid(ErrorCode.INVALID_JSON, "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw invalid(ErrorCode.INVALID_JSON, "the body is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw invalid(ErrorCode.INVALID_INPUT, "the body must be a JSON object: {\"payload\": ...} or {\"instances\": [...]}");
        }
        boolean hasPayload = root.has("payload");
        boolean hasInstances = root.has("instances");
        if (hasPayload == hasInstances || root.size() != 1) {
            throw invalid(ErrorCode.INVALID_INPUT, "the body must have exactly one field, 'payload' or 'instances'");
        }
        List<JsonNode> instances = new ArrayList<>();
        if (hasInstances) {
            JsonNode list = root.get("instances");
            if (!list.isArray()) {
                throw invalid(ErrorCode.INVALID_INPUT, "'instances' must be a list");
            }
            list.forEach(instances::add);
        } else {
            JsonNode payload = root.get("payload");
            if (payload.isArray() && !allNumbers(payload)) {
                payload.forEach(instances::add);
            } else {
                instances.add(payload);
            }
        }
        if (instances.isEmpty()) {
            throw invalid(ErrorCode.INVALID_INPUT, "no instances to predict");
        }
        if (instances.size() > maxBatch) {
            throw invalid(ErrorCode.INVALID_INPUT, instances.size() + " instances in one request; the limit is " + maxBatch);
        }
        for (int i = 0; i < instances.size(); i++) {
            if (instances.get(i).isNull()) {
                throw invalid(ErrorCode.INVALID_INPUT, instances.size() == 1 ? "the instance is null" : "instance " + i + " is null");
            }
        }
        return instances;
    }

    private static boolean allNumbers(JsonNode array) {
        if (array.isEmpty()) {
            return false;
        }
        for (JsonNode element : array) {
            if (!element.isNumber()) {
                return false;
            }
        }
        return true;
    }

    private static GatewayException invalid(ErrorCode code, String message) {
        return new GatewayException(code, message);
    }
}
