package dev.mlserver.gateway.v2;

import java.util.Optional;

/** The Open Inference Protocol's tensor element types that mlserver reads and writes. */
enum Datatype {
    BOOL(1), INT32(4), INT64(8), FP32(4), FP64(8), BYTES(-1);

    /** Bytes per element in raw contents; -1 for BYTES, whose elements carry their own length. */
    private final int size;

    Datatype(int size) {
        this.size = size;
    }

    int size() {
        return size;
    }

    boolean numeric() {
        return this == INT32 || this == INT64 || this == FP32 || this == FP64;
    }

    /** The type named {@code wire}, spelled as the protocol spells it (case-sensitive). */
    static Optional<Datatype> parse(String wire) {
        for (Datatype d : values()) {
            if (d.name().equals(wire)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
