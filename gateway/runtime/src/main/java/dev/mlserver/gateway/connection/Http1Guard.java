package dev.mlserver.gateway.connection;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/1.x connection's guard, between the request decoder and Vert.x, on the connection's
 * event loop. It sees each request as it is decoded and each response as it is written, and:
 *
 * <ul>
 *   <li>refuses, before Vert.x sees them, requests HTTP forbids or the gateway does not speak
 *       (another HTTP version, two Host headers, a Transfer-Encoding other than chunked, an
 *       unknown Expect) and requests whose body does not fit the {@link BodyBudget};
 *   <li>gives a request {@code header_timeout_ms} from its first byte to the end of its headers,
 *       and {@code body_timeout_ms} from there to the end of its body, counting only time the
 *       gateway is reading (not while it holds the connection back itself);
 *   <li>answers a malformed chunked body with JSON instead of a silent close;
 *   <li>while the gateway drains, closes the connection once it has been idle for
 *       {@link ConnectionGuard#DRAIN_IDLE_MILLIS}, so that a request sent on it meanwhile is
 *       answered (503 {@code draining}) rather than lost.
 * </ul>
 *
 * Every answer of its own is JSON with {@code Connection: close}, and the connection closes after
 * it. It is written only when no earlier response on the connection is unfinished; otherwise the
 * answer waits for them, and for a request already handed to Vert.x the connection just closes.
 */
final class Http1Guard extends ChannelDuplexHandler implements ConnectionGuard.Tracked {
    private enum Phase { IDLE, HEAD, BODY }

    private static final long NONE = Long.MAX_VALUE;
    /**
     * Pipelined requests read ahead of their answers at most. A client that sends requests and
     * never reads the answers would otherwise have Vert.x queue every request it sends (about
     * 700 bytes of heap each: 400 connections held 1.4 GB); past this the decoder leaves the bytes
     * unread until answers have gone out.
     */
    static final int MOST_READ_AHEAD = 32;

    private final ConnectionGuard owner;
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.IDLE;
    private long phaseDeadline;
    /** The body reservation of each request handed to Vert.x and not yet answered, oldest first. */
    private final ArrayDeque<Long> unanswered = new ArrayDeque<>();
    private boolean responding;
    private long idleSince = System.nanoTime();
    private boolean discarding;
    private Rejection pending;
    private ScheduledFuture<?> timer;
    private boolean draining;
    private StrictRequestDecoder decoder;
    private long drainStart;

    Http1Guard(ConnectionGuard owner) {
        this.owner = owner;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    void decoder(StrictRequestDecoder decoder) {
        this.decoder = decoder;
    }

    /** Whether as many requests as may be read ahead of their answers are unanswered. */
    boolean readAheadFull() {
        return unanswered.size() >= MOST_READ_AHEAD;
    }

    /** Told by the decoder that bytes arrived: the first byte of a request starts its header deadline. */
    void bytesArrived() {
        if (phase == Phase.IDLE && !discarding) {
            phase = Phase.HEAD;
            phaseDeadline = System.nanoTime() + owner.headerTimeoutNanos();
            ensureTimer();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (discarding) {
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof HttpRequest request) {
            onRequest(ctx, request);
        } else if (msg instanceof HttpContent content && !content.decoderResult().isSuccess()) {
            ReferenceCountUtil.release(msg);
            failReceiving(Rejection.BAD_CHUNK);
        } else {
            if (msg instanceof LastHttpContent) {
                phase = Phase.IDLE;
            }
            ctx.fireChannelRead(msg);
        }
    }

    private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            // Vert.x answers what the decoder could not parse (400, 414, 431) and closes
            owner.rejected("invalid_request");
            phase = Phase.IDLE;
            unanswered.add(0L);
            owner.unanswered(1);
            ctx.fireChannelRead(request);
            return;
        }
        Rejection refused = refusal(request);
        long reserved = 0;
        if (refused == null) {
            reserved = owner.bodyReservation(request);
            if (reserved > 0 && !owner.budget().tryReserve(reserved)) {
                refused = Rejection.BODY_MEMORY;
                reserved = 0;
            }
        }
        if (refused != null) {
            ReferenceCountUtil.release(request);
            refuse(refused);
            return;
        }
        phase = Phase.BODY;
        phaseDeadline = System.nanoTime() + owner.bodyTimeoutNanos();
        unanswered.add(reserved);
        owner.unanswered(1);
        ctx.fireChannelRead(request);
    }

    /**
     * What HTTP/1.1 (RFC 9110, 9112) says a server must or may refuse, and the gateway does. One
     * pass over the headers, with no list made: this runs for every request.
     */
    private static Rejection refusal(HttpRequest request) {
        HttpVersion version = request.protocolVersion();
        if (!HttpVersion.HTTP_1_1.equals(version) && !HttpVersion.HTTP_1_0.equals(version)) {
            return Rejection.HTTP_VERSION;
        }
        int hosts = 0;
        int codings = 0;
        int expectations = 0;
        boolean length = false;
        CharSequence coding = null;
        CharSequence expectation = null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = request.headers().iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> header = it.next();
            CharSequence name = header.getKey();
            if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.HOST)) {
                hosts++;
            } else if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING)) {
                codings++;
                coding = header.getValue();
            } else if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.CONTENT_LENGTH)) {
                length = true;
            } else if (AsciiString.contentEqualsIgnoreCase(name, HttpHeaderNames.EXPECT)) {
                expectations++;
                expectation = header.getValue();
            }
        }
        if (hosts > 1) {
            return Rejection.DUPLICATE_HOST;
        }
        if (codings > 0 && (codings > 1 || !AsciiString.contentEqualsIgnoreCase(AsciiString.trim(coding), HttpHeaderValues.CHUNKED)
                || length || HttpVersion.HTTP_1_0.equals(version))) {
            return Rejection.TRANSFER_ENCODING;
        }
        if (expectations > 0 && (expectations > 1
                || !AsciiString.contentEqualsIgnoreCase(AsciiString.trim(expectation), HttpHeaderValues.CONTINUE))) {
            return Rejection.EXPECTATION;
        }
        return null;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            ctx.write(msg, promise); // 100 Continue: the real answer follows
            return;
        }
        if (msg instanceof HttpResponse) {
            responding = true;
        }
        ctx.write(msg, promise);
        if (msg instanceof LastHttpContent) {
            responding = false;
            Long reserved = unanswered.poll();
            if (reserved != null) {
                owner.budget().release(reserved);
                owner.unanswered(-1);
            }
            if (decoder != null && decoder.held() && unanswered.size() <= MOST_READ_AHEAD / 2) {
                // not from inside this write: the requests it decodes go to Vert.x, which is writing
                ctx.channel().eventLoop().execute(decoder::resume);
            }
            if (phase != Phase.IDLE) {
                // a request pipelined behind this answer waited for the gateway, not the other way round:
                // its deadline counts from now
                phaseDeadline = System.nanoTime() + phaseTimeout();
            }
            if (unanswered.isEmpty()) {
                idleSince = System.nanoTime();
                if (pending != null) {
                    Rejection answer = pending;
                    pending = null;
                    answerAndClose(answer);
                } else if (draining) {
                    ensureTimer();
                }
            }
        }
    }

    /** Refuses a request Vert.x has not seen: answered at once, or after the answers before it. */
    private void refuse(Rejection rejection) {
        owner.rejected(rejection.reason());
        discarding = true;
        phase = Phase.IDLE;
        if (unanswered.isEmpty()) {
            answerAndClose(rejection);
        } else {
            pending = rejection;
            ctx.channel().config().setAutoRead(false);
        }
    }

    /** Fails the request being received, which Vert.x has seen: answered if nothing else is under way, else closed. */
    private void failReceiving(Rejection rejection) {
        owner.rejected(rejection.reason());
        discarding = true;
        phase = Phase.IDLE;
        if (unanswered.size() == 1 && !responding) {
            answerAndClose(rejection);
        } else {
            ctx.close();
        }
    }

    private void answerAndClose(Rejection rejection) {
        ctx.writeAndFlush(rejection.response()).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        for (Long reserved; (reserved = unanswered.poll()) != null; ) {
            owner.budget().release(reserved);
            owner.unanswered(-1);
        }
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    // ---- deadlines: one timer per connection at a time, re-armed lazily, never one per request

    private long nextDeadline() {
        if (phase != Phase.IDLE) {
            return phaseDeadline;
        }
        if (draining && unanswered.isEmpty() && pending == null) {
            return Math.max(idleSince, drainStart) + TimeUnit.MILLISECONDS.toNanos(ConnectionGuard.DRAIN_IDLE_MILLIS);
        }
        return NONE;
    }

    private void ensureTimer() {
        if (timer != null || ctx == null) {
            return;
        }
        long at = nextDeadline();
        if (at != NONE) {
            timer = ctx.executor().schedule(this::onTimer, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    private void onTimer() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        long at = nextDeadline();
        if (at == NONE) {
            return;
        }
        if (now < at) {
            ensureTimer();
            return;
        }
        if (phase == Phase.IDLE) {
            ctx.close(); // draining, and idle long enough: nobody is sending on it
            return;
        }
        if (!ctx.channel().config().isAutoRead() || unanswered.size() > (phase == Phase.HEAD ? 0 : 1)) {
            // the gateway is holding this connection back (pipelined requests wait their turn): not the client's delay
            phaseDeadline = now + phaseTimeout();
            ensureTimer();
            return;
        }
        if (phase == Phase.HEAD) {
            refuse(Rejection.HEADER_TIMEOUT);
        } else {
            failReceiving(Rejection.BODY_TIMEOUT);
        }
    }

    private long phaseTimeout() {
        return phase == Phase.HEAD ? owner.headerTimeoutNanos() : owner.bodyTimeoutNanos();
    }

    /** Starts closing this connection once it is idle (it answers 503 to what arrives meanwhile). */
    void drain() {
        draining = true;
        drainStart = System.nanoTime();
        if (timer != null) {
            // armed for a later deadline (the last request's header deadline, say): the drain's comes first
            timer.cancel(false);
            timer = null;
        }
        ensureTimer();
    }

    @Override
    public boolean idleFor(long nanos) {
        return phase == Phase.IDLE && unanswered.isEmpty() && !discarding && System.nanoTime() - idleSince >= nanos;
    }

    @Override
    public void close() {
        ctx.close();
    }
}
