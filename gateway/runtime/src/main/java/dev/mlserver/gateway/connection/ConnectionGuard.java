package dev.mlserver.gateway.connection;

import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.http.Inflation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.net.impl.ConnectionBase;
import java.lang.management.ManagementFactory;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What keeps hostile or broken clients from exhausting the gateway: a cap on open connections
 * below the process's file limit, a memory budget for request bodies, deadlines for headers and
 * bodies, protocol errors answered in JSON, and a drain that answers rather than drops requests on
 * open connections at shutdown. The HTTP/1.1 server {@link #install installs} all of it; the gRPC
 * port's connections are {@link #admitCounted counted} against the same cap.
 *
 * <p>At the connection cap the connection idle the longest on the same event loop (at least
 * {@link #EVICT_IDLE_MILLIS}) is closed to make room; when none is, the new connection is answered
 * 503 and closed at once. The acceptor never runs out of file descriptors, and a flood of idle
 * connections does not lock out clients that come with work.
 */
public final class ConnectionGuard {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);

    /** While draining, a connection idle this long is closed: a client still using it has sent by then. */
    static final long DRAIN_IDLE_MILLIS = 1000;
    /** At the cap, a connection idle at least this long may be closed to make room for a new one. */
    static final long EVICT_IDLE_MILLIS = 1000;
    /** How many connections of an event loop are looked at for one to evict. */
    private static final int EVICT_SCAN = 256;
    /** The part of the open-file limit connections may use; the rest is for jars, logs and the runtime. */
    private static final double FILE_SHARE = 0.75;
    /** Heap allowed per connection when the cap is derived: headers up to 16 KiB, buffers, Vert.x state. */
    private static final long HEAP_PER_CONNECTION = 64 * 1024;

    /** One open connection, as the guard sees it. */
    interface Tracked {
        /** Whether nothing is being received or answered on it, and has not been for {@code nanos}. */
        boolean idleFor(long nanos);

        void close();
    }

    private final int maxConnections;
    private final int maxBodyBytes;
    private final long headerTimeoutNanos;
    private final long bodyTimeoutNanos;
    private final BodyBudget budget;
    private final LongAdder unanswered = new LongAdder();
    private final AtomicInteger open = new AtomicInteger();
    private final Map<EventLoop, Set<Tracked>> byLoop = new ConcurrentHashMap<>();
    private final Set<Tracked> all = ConcurrentHashMap.newKeySet();
    /** The connections that were open when the drain began and are still open. */
    private final Set<Tracked> drainingOpen = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final MeterRegistry registry;
    private final Map<String, Counter> rejections = new ConcurrentHashMap<>();

    private ConnectionGuard(GatewayConfig.Server server, MeterRegistry registry) {
        GatewayConfig.Connections limits = server.connections();
        long fileLimit = fileLimit();
        int byFiles = fileLimit > 0 ? (int) Math.min(Integer.MAX_VALUE, (long) (fileLimit * FILE_SHARE)) : Integer.MAX_VALUE;
        if (limits.maxConnections() > 0) {
            if (limits.maxConnections() > byFiles) {
                LOG.warn("server.max_connections {} is above three quarters of the open-file limit ({}): using {}",
                        limits.maxConnections(), fileLimit, byFiles);
            }
            this.maxConnections = Math.min(limits.maxConnections(), byFiles);
        } else {
            long byHeap = Runtime.getRuntime().maxMemory() / HEAP_PER_CONNECTION;
            this.maxConnections = (int) Math.max(16, Math.min(byFiles, byHeap));
        }
        this.maxBodyBytes = server.maxBodyBytes();
        this.headerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(limits.headerTimeoutMs());
        this.bodyTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(limits.bodyTimeoutMs());
        this.budget = new BodyBudget(limits.bodyMemoryBytes() > 0 ? limits.bodyMemoryBytes()
                : Math.max(4L * server.maxBodyBytes(), Runtime.getRuntime().maxMemory() / 4));
        if (budget.largestBody() < server.maxBodyBytes()) {
            LOG.warn("server.body_memory_bytes {} leaves room for bodies of at most {} bytes, below server.max_body_bytes {}",
                    budget.limit(), budget.largestBody(), server.maxBodyBytes());
        }
        this.registry = registry;
        Gauge.builder("mlserver_http_connections_open", open, AtomicInteger::get)
                .description("open HTTP connections").register(registry);
        Gauge.builder("mlserver_http_connections_max", this, g -> g.maxConnections)
                .description("the cap on open HTTP connections (server.max_connections, or derived)").register(registry);
        Gauge.builder("mlserver_http_body_bytes_held", budget, BodyBudget::held)
                .description("request body bytes reserved by requests being received or answered").register(registry);
        Gauge.builder("mlserver_http_body_bytes_max", budget, BodyBudget::limit)
                .description("the budget for request bodies (server.body_memory_bytes, or derived)").register(registry);
        Gauge.builder("mlserver_http_requests_unanswered", unanswered, LongAdder::sum)
                .description("HTTP/1.1 requests read and not yet answered, pipelined ones included").register(registry);
    }

    public static ConnectionGuard create(GatewayConfig.Server server, MeterRegistry registry) {
        return new ConnectionGuard(server, registry);
    }

    /** Guards every connection {@code server} accepts; {@code options} are the server's own. */
    public HttpServer install(HttpServer server, HttpServerOptions options) {
        return server.connectionHandler(connection -> accept(connection, options));
    }

    /**
     * Counts a connection of another server than the HTTP/1.1 one (the gRPC port) against the same
     * cap, so that connections opened there cannot use up the process's files for both. At the cap
     * it closes the connection (an HTTP/2 client hears of it as a closed connection, retries later)
     * unless an idle HTTP/1.1 connection of the same event loop can make room; false when closed.
     * Such connections are counted only: never evicted, and drained by their own server.
     */
    public boolean admitCounted(HttpConnection connection) {
        Channel channel = ((ConnectionBase) connection).channel();
        if (!roomFor(byLoop.getOrDefault(channel.eventLoop(), Set.of()))) {
            rejected(Rejection.TOO_MANY_CONNECTIONS.reason());
            channel.close();
            return false;
        }
        open.incrementAndGet();
        channel.closeFuture().addListener(closed -> open.decrementAndGet());
        return true;
    }

    /** The idle timeout to give the server: {@code server.idle_timeout_ms}. */
    public static HttpServerOptions apply(GatewayConfig.Connections limits, HttpServerOptions options) {
        return options.setIdleTimeoutUnit(TimeUnit.MILLISECONDS).setIdleTimeout((int) Math.min(Integer.MAX_VALUE,
                limits.idleTimeoutMs()));
    }

    private void accept(HttpConnection connection, HttpServerOptions options) {
        // Vert.x has no public access to a connection's channel; its connection base class has
        Channel channel = ((ConnectionBase) connection).channel();
        EventLoop loop = channel.eventLoop();
        Set<Tracked> local = byLoop.computeIfAbsent(loop, l -> new LinkedHashSet<>());
        if (!roomFor(local)) {
            rejected(Rejection.TOO_MANY_CONNECTIONS.reason());
            channel.pipeline().firstContext().writeAndFlush(Rejection.TOO_MANY_CONNECTIONS.bytes())
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        open.incrementAndGet();
        Tracked tracked = guardHttp1(channel, options);
        local.add(tracked);
        all.add(tracked);
        channel.closeFuture().addListener(closed -> {
            open.decrementAndGet();
            local.remove(tracked);
            all.remove(tracked);
            drainingOpen.remove(tracked);
        });
    }

    private Tracked guardHttp1(Channel channel, HttpServerOptions options) {
        ChannelPipeline pipeline = channel.pipeline();
        if (pipeline.get("httpDecoder") == null || pipeline.get("httpEncoder") == null) {
            return untracked(channel); // not HTTP/1.x (an HTTP/2 connection): counted, never evicted
        }
        Http1Guard guard = new Http1Guard(this);
        StrictRequestDecoder decoder = new StrictRequestDecoder(options, guard::bytesArrived, guard::readAheadFull);
        guard.decoder(decoder);
        pipeline.replace("httpDecoder", "httpDecoder", decoder);
        // after the encoder: it sees responses as Vert.x writes them, and its own go through the encoder
        pipeline.addAfter("httpEncoder", "mlserverGuard", guard);
        if (draining.get()) {
            guard.drain();
        }
        return guard;
    }

    private static Tracked untracked(Channel channel) {
        return new Tracked() {
            @Override
            public boolean idleFor(long nanos) {
                return false;
            }

            @Override
            public void close() {
                channel.close();
            }
        };
    }

    /** Whether one more connection fits: below the cap, or at it with an idle one of {@code local} closed to make room. */
    private boolean roomFor(Set<Tracked> local) {
        return open.get() < maxConnections || evictIdle(local);
    }

    /** Closes the longest-known idle connection of this event loop; false when none has been idle long enough. */
    private boolean evictIdle(Set<Tracked> local) {
        long idle = TimeUnit.MILLISECONDS.toNanos(EVICT_IDLE_MILLIS);
        Iterator<Tracked> it = local.iterator();
        for (int i = 0; i < EVICT_SCAN && it.hasNext(); i++) {
            Tracked candidate = it.next();
            if (candidate.idleFor(idle)) {
                it.remove();
                rejected("evicted_idle");
                candidate.close();
                return true;
            }
        }
        return false;
    }

    /**
     * Starts the drain: from now on every connection closes once it has been idle for
     * {@link #DRAIN_IDLE_MILLIS}; a request arriving before that is answered (by the router, 503
     * {@code draining} with {@code Connection: close}, after which the connection closes).
     */
    public void drain() {
        if (!draining.compareAndSet(false, true)) {
            return;
        }
        drainingOpen.addAll(all);
        drainingOpen.retainAll(all); // one that closed meanwhile
        byLoop.forEach((loop, local) -> loop.execute(() -> List.copyOf(local).forEach(t -> {
            if (t instanceof Http1Guard guard) {
                guard.drain();
            }
        })));
    }

    /**
     * Waits up to {@code millis} for the connections open when the drain began to close; true when
     * they have. Blocking.
     */
    public boolean awaitDrained(long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!drainingOpen.isEmpty()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    public int openConnections() {
        return open.get();
    }

    public int maxConnections() {
        return maxConnections;
    }

    public long bodyMemoryBytes() {
        return budget.limit();
    }

    /** HTTP/1.1 requests read and not answered yet, over every connection. */
    public long requestsUnanswered() {
        return unanswered.sum();
    }

    void unanswered(int change) {
        unanswered.add(change);
    }

    /** Request body bytes reserved now by requests being received or answered. */
    public long bodyBytesHeld() {
        return budget.held();
    }

    BodyBudget budget() {
        return budget;
    }

    long headerTimeoutNanos() {
        return headerTimeoutNanos;
    }

    long bodyTimeoutNanos() {
        return bodyTimeoutNanos;
    }

    long bodyTimeoutMillis() {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(bodyTimeoutNanos));
    }

    /**
     * What a request's body reserves: its declared length, or the largest allowed body when
     * chunked; a compressed body ({@code Content-Encoding}) as much again as the largest allowed
     * body, for what it is inflated to.
     */
    long bodyReservation(HttpRequest request) {
        boolean compressed = Inflation.encoded(request.headers().get(HttpHeaderNames.CONTENT_ENCODING));
        return reservation(HttpUtil.isTransferEncodingChunked(request) ? maxBodyBytes : HttpUtil.getContentLength(request, 0L),
                compressed);
    }

    /**
     * What a body (or a gRPC message) of {@code length} declared bytes reserves: that length, and
     * as much again as the largest allowed body when it is compressed, never more than the budget
     * can give one body (or a compressed body would never fit); nothing for one over
     * {@code max_body_bytes}, which is refused (413, RESOURCE_EXHAUSTED) without being read.
     */
    long reservation(long length, boolean compressed) {
        if (length > maxBodyBytes || length <= 0) {
            return 0;
        }
        return Math.min(length + (compressed ? maxBodyBytes : 0), budget.largestBody());
    }

    /**
     * The gRPC port's request handler around {@code grpc}: each call's messages hold their room in
     * the body budget while they are received and answered ({@link BudgetedGrpcRequest}).
     */
    public Handler<HttpServerRequest> budgeted(Handler<HttpServerRequest> grpc) {
        return request -> grpc.handle(new BudgetedGrpcRequest((HttpServerRequestInternal) request, this));
    }

    void rejected(String reason) {
        rejections.computeIfAbsent(reason, r -> Counter.builder("mlserver_http_rejections_total")
                .description("requests and connections refused by the connection guard, by reason")
                .tag("reason", r).register(registry)).increment();
    }

    /** The process's open-file limit, or -1 where the JVM cannot tell. */
    static long fileLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }
}
