package dev.mlserver.gateway.connection;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * One socket write per answer on an HTTP/2 port. Vert.x flushes every HTTP/2 frame it writes
 * outside a read at once; a gRPC answer is written when its prediction returns, from a task on the
 * event loop, so it left in two writes: its headers and message, then its trailers (counted with
 * {@code strace}: two {@code writev} per ModelInfer against one per native prediction). With
 * Netty's {@link FlushConsolidationHandler} at the head of the pipeline, a flush outside a read is
 * put off to the end of the event loop's current batch of tasks, where every frame written
 * meanwhile, for any stream of the connection, leaves in one write; flushes inside a read still
 * wait for the read to complete, as Vert.x has them.
 */
public final class Http2Flushes {
    static final String NAME = "mlserverFlushes";
    /** Netty's default: a flush goes out at the latest after this many flushes put off during one read. */
    private static final int MOST_FLUSHES_PUT_OFF = 256;

    private Http2Flushes() {
    }

    /** Puts off and merges the flushes of {@code connection}; call it from the server's connection handler. */
    public static void install(HttpConnection connection) {
        // Vert.x has no public access to a connection's channel; its connection base class has
        install(((ConnectionBase) connection).channel().pipeline());
    }

    static void install(ChannelPipeline pipeline) {
        pipeline.addFirst(NAME, new FlushConsolidationHandler(MOST_FLUSHES_PUT_OFF, true));
    }
}
