package dev.mlserver.gateway.connection;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;

/**
 * A call on the gRPC port, holding its messages' room in the body budget the HTTP port's bodies
 * share. Each message's five-byte prefix declares its length: that length is reserved when the
 * prefix arrives, before the message's bytes are held (twice over the largest body when it is
 * compressed, for what it inflates to), and everything reserved is given back when the answer
 * has been sent or the stream is closed. A message that does not fit is refused with
 * {@code REFUSED_STREAM}, which gRPC clients take as UNAVAILABLE, safe to retry: nothing of the
 * call was processed. Without it, one client could hold a partial message of
 * {@code max_body_bytes} on each of a hundred streams of each of many connections.
 *
 * <p>A message has {@code server.body_timeout_ms} from its prefix to its last byte, as an HTTP
 * body has from its headers: one still incomplete then is cancelled ({@code CANCEL}) and its room
 * given back, so a client trickling bytes cannot keep the budget.
 */
final class BudgetedGrpcRequest extends HttpServerRequestWrapper {
    /** HTTP/2's codes for a stream reset: refused before any processing, and cancelled. */
    static final long REFUSED_STREAM = 0x7;
    static final long CANCEL = 0x8;
    private static final int PREFIX = 5;

    private final ConnectionGuard guard;
    private final byte[] prefix = new byte[PREFIX];
    private int prefixRead;
    /** Bytes of the current message still to come after its prefix. */
    private long messageLeft;
    private long reserved;
    private boolean closed;
    /** The timer of the message being received past its first chunk; -1 when none is. */
    private long deadline = -1;

    BudgetedGrpcRequest(HttpServerRequestInternal delegate, ConnectionGuard guard) {
        super(delegate);
        this.guard = guard;
        delegate.response().endHandler(v -> release());
        delegate.response().closeHandler(v -> release());
    }

    @Override
    public HttpServerRequest handler(Handler<Buffer> handler) {
        if (handler == null) {
            delegate.handler(null);
        } else {
            delegate.handler(chunk -> {
                if (admit(chunk)) {
                    handler.handle(chunk);
                }
            });
        }
        return this;
    }

    /** Reserves for each message whose prefix {@code chunk} completes; false when the chunk is not to be read. */
    private boolean admit(Buffer chunk) {
        if (closed) {
            // answered already: what still comes is of no use to anyone
            return false;
        }
        for (int at = 0; at < chunk.length(); ) {
            if (messageLeft > 0) {
                long skip = Math.min(messageLeft, chunk.length() - at);
                messageLeft -= skip;
                at += (int) skip;
                continue;
            }
            int n = Math.min(PREFIX - prefixRead, chunk.length() - at);
            chunk.getBytes(at, at + n, prefix, prefixRead);
            prefixRead += n;
            at += n;
            if (prefixRead == PREFIX) {
                prefixRead = 0;
                messageLeft = ((prefix[1] & 0xffL) << 24) | ((prefix[2] & 0xffL) << 16) | ((prefix[3] & 0xffL) << 8) | (prefix[4] & 0xffL);
                long bytes = guard.reservation(messageLeft, prefix[0] != 0);
                if (bytes > 0 && !guard.budget().tryReserve(bytes)) {
                    guard.rejected(Rejection.BODY_MEMORY.reason());
                    release();
                    delegate.response().reset(REFUSED_STREAM);
                    return false;
                }
                reserved += bytes;
            }
        }
        if (messageLeft > 0 && deadline < 0) {
            deadline = delegate.context().setTimer(guard.bodyTimeoutMillis(), id -> expired());
        } else if (messageLeft == 0 && deadline >= 0) {
            delegate.context().owner().cancelTimer(deadline);
            deadline = -1;
        }
        return true;
    }

    private void expired() {
        deadline = -1;
        if (!closed && messageLeft > 0) {
            guard.rejected(Rejection.BODY_TIMEOUT.reason());
            release();
            delegate.response().reset(CANCEL);
        }
    }

    private void release() {
        closed = true;
        if (deadline >= 0) {
            delegate.context().owner().cancelTimer(deadline);
            deadline = -1;
        }
        guard.budget().release(reserved);
        reserved = 0;
    }
}
