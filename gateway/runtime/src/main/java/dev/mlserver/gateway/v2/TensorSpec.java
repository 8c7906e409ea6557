package dev.mlserver.gateway.v2;

import java.util.Objects;

/** A tensor as model metadata describes it: name, element type and shape, -1 for any size. */
record TensorSpec(String name, Datatype datatype, long[] shape) {
    TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        shape = shape.clone();
    }
}
