package dev.mlserver.gateway.connection;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory the gateway lets request bodies take, summed over every connection. A request
 * reserves its body's size (its {@code Content-Length}, or {@code max_body_bytes} when chunked)
 * when its headers arrive, before a byte of the body is read, and gives it back when its response
 * has been written. Bodies over {@link #SMALL_BODY} may fill only three quarters of the budget:
 * the last quarter stays for small bodies, so a flood of large unfinished bodies does not shut out
 * ordinary predictions.
 */
final class BodyBudget {
    static final long SMALL_BODY = 64 * 1024;

    private final long limit;
    private final long largeLimit;
    private final AtomicLong held = new AtomicLong();

    BodyBudget(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a body budget must be positive");
        }
        this.limit = limit;
        this.largeLimit = limit - limit / 4;
    }

    /** Takes {@code bytes} from the budget; false, and nothing taken, when they do not fit. */
    boolean tryReserve(long bytes) {
        long ceiling = bytes <= SMALL_BODY ? limit : largeLimit;
        while (true) {
            long now = held.get();
            if (now + bytes > ceiling) {
                return false;
            }
            if (held.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        if (bytes > 0) {
            held.addAndGet(-bytes);
        }
    }

    long held() {
        return held.get();
    }

    long limit() {
        return limit;
    }

    /** The largest body that can ever be reserved. */
    long largestBody() {
        return largeLimit;
    }
}
