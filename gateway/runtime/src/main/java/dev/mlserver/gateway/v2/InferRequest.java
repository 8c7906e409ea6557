package dev.mlserver.gateway.v2;

import java.util.List;

/**
 * An inference request, whatever the wire.
 *
 * @param id the client's identifier, echoed in the response; null when none was given
 * @param inputs the input tensors
 * @param outputs the outputs asked for; empty for every output
 */
record InferRequest(String id, List<Tensor> inputs, List<String> outputs) {
    InferRequest {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }
}
