package dev.mlserver.gateway.connection;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Vert.x's HTTP/1.x request decoder with three changes: a request with both {@code Content-Length}
 * and {@code Transfer-Encoding} is an invalid request (RFC 9112 section 6.3: refuse it and close;
 * Netty's default drops the {@code Content-Length} and reads on, so bytes after the last chunk
 * would run as a second request); it says when bytes arrive, so that the header deadline
 * starts at a request's first byte rather than when the connection went idle; and it decodes no
 * further request while as many as may be are read ahead of their answers
 * ({@link Http1Guard#MOST_READ_AHEAD}): the bytes wait, the socket is not read, and decoding
 * {@link #resume resumes} once answers have gone out.
 *
 * <p>Vert.x has no public way to change its decoder; this subclass of its implementation class is
 * the one place that depends on it, replaced in each connection's pipeline by {@link ConnectionGuard}.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {
    private final Runnable bytesArrived;
    private final BooleanSupplier readAheadFull;
    private ChannelHandlerContext context;
    /** Whether the last thing decoded ended a request: the next bytes start one. */
    private boolean betweenRequests = true;
    private boolean held;

    StrictRequestDecoder(HttpServerOptions options, Runnable bytesArrived, BooleanSupplier readAheadFull) {
        super(options);
        this.bytesArrived = bytesArrived;
        this.readAheadFull = readAheadFull;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        context = ctx;
        super.handlerAdded(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (betweenRequests && in.isReadable() && readAheadFull.getAsBoolean()) {
            // the request waits in the bytes already read; nothing more is read meanwhile
            held = true;
            ctx.channel().config().setAutoRead(false);
            return;
        }
        if (in.isReadable()) {
            bytesArrived.run();
        }
        int before = out.size();
        super.decode(ctx, in, out);
        if (out.size() > before) {
            betweenRequests = out.get(out.size() - 1) instanceof LastHttpContent;
        }
    }

    /** Whether a request waits undecoded for answers to go out. */
    boolean held() {
        return held;
    }

    /** Decodes what waits and reads on; on the event loop, outside any other handler's work. */
    void resume() {
        if (!held || !context.channel().isActive()) {
            return;
        }
        held = false;
        context.channel().config().setAutoRead(true);
        try {
            channelRead(context, Unpooled.EMPTY_BUFFER);
            channelReadComplete(context);
        } catch (Exception e) {
            context.fireExceptionCaught(e);
        }
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
