package dev.mlserver.gateway.connection;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import java.util.List;

/**
 * Vert.x's HTTP/1.x request decoder with two changes: a request with both {@code Content-Length}
 * and {@code Transfer-Encoding} is an invalid request (RFC 9112 section 6.3: refuse it and close;
 * Netty's default drops the {@code Content-Length} and reads on, so bytes after the last chunk
 * would run as a second request), and it says when bytes arrive, so that the header deadline
 * starts at a request's first byte rather than when the connection went idle.
 *
 * <p>Vert.x has no public way to change its decoder; this subclass of its implementation class is
 * the one place that depends on it, replaced in each connection's pipeline by {@link ConnectionGuard}.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {
    private final Runnable bytesArrived;

    StrictRequestDecoder(HttpServerOptions options, Runnable bytesArrived) {
        super(options);
        this.bytesArrived = bytesArrived;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (in.isReadable()) {
            bytesArrived.run();
        }
        super.decode(ctx, in, out);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        throw new AmbiguousLength();
    }

    /** The decoder's failure for a request whose body length two headers state differently. */
    static final class AmbiguousLength extends IllegalArgumentException {
        AmbiguousLength() {
            super("Content-Length and Transfer-Encoding together are refused (RFC 9112, 6.3): send one of them");
        }
    }
}
