package dev.mlserver.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The per-request part of Vert.x's HTTP server metrics, into the same series vertx-micrometer-metrics
 * writes ({@code vertx_http_server_requests_total}, {@code _response_time_seconds},
 * {@code _active_requests}, {@code _request_bytes}, {@code _response_bytes},
 * {@code _request_resets_total}, labelled by method and code), at a fraction of the cost: meters are
 * found by array index instead of being looked up by tags, and the active-requests gauge is
 * registered once per method instead of on every request. Connection and byte counts stay with
 * vertx-micrometer-metrics ({@code tcp}).
 */
final class HttpServerRequestMetrics implements HttpServerMetrics<HttpServerRequestMetrics.Request, Object, Object> {
    /** Methods shown as themselves; any other is {@code other}, as {@link GatewayMetrics#METHODS} says. */
    static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
    private static final int STATUSES = 1000;

    private static final CharSequence WARMUP_HEADER = HttpHeaders.createOptimized(WarmupMark.HEADER);

    private final HttpServerMetrics<Object, Object, Object> tcp;
    private final Meters meters;
    /** Where the gateway's own warm-up requests are recorded: the same code, a registry nobody scrapes. */
    private final Meters warmupMeters;

    HttpServerRequestMetrics(HttpServerMetrics<Object, Object, Object> tcp, Meters meters, Meters warmupMeters) {
        this.tcp = tcp;
        this.meters = meters;
        this.warmupMeters = warmupMeters;
    }

    /**
     * One request in flight: the meters it is recorded in, its method's index, when it began, which
     * of its two halves have ended.
     */
    static final class Request {
        final Meters meters;
        final int method;
        final long start = System.nanoTime();
        boolean requestEnded;
        boolean responseEnded;
        boolean reset;

        Request(Meters meters, int method) {
            this.meters = meters;
            this.method = method;
        }
    }

    @Override
    public Request requestBegin(Object socket, HttpRequest request) {
        boolean warmup = WarmupMark.carriedBy(request.headers().get(WARMUP_HEADER));
        Request r = new Request(warmup ? warmupMeters : meters, methodIndex(request.method()));
        r.meters.perMethod(r.method).active.increment();
        return r;
    }

    @Override
    public void requestEnd(Request r, HttpRequest request, long bytesRead) {
        r.meters.perMethod(r.method).requestBytes.record(bytesRead);
        r.requestEnded = true;
        if (r.responseEnded) {
            done(r);
        }
    }

    @Override
    public void responseEnd(Request r, HttpResponse response, long bytesWritten) {
        PerStatus s = r.meters.perStatus(r.method, response.statusCode());
        s.requests.increment();
        s.time.record(System.nanoTime() - r.start, TimeUnit.NANOSECONDS);
        s.responseBytes.record(bytesWritten);
        r.responseEnded = true;
        if (r.requestEnded) {
            done(r);
        }
    }

    @Override
    public void requestReset(Request r) {
        r.meters.perMethod(r.method).resets.increment();
        done(r);
    }

    @Override
    public Request responsePushed(Object socket, HttpMethod method, String uri, HttpResponse response) {
        Request r = new Request(meters, methodIndex(method));
        r.requestEnded = true;
        r.meters.perMethod(r.method).active.increment();
        return r;
    }

    /** Leaves the active count once, whichever of end, end and reset comes last. */
    private void done(Request r) {
        if (!r.reset) {
            r.reset = true;
            r.meters.perMethod(r.method).active.decrement();
        }
    }

    static int methodIndex(HttpMethod method) {
        String name = method.name();
        for (int i = 0; i < METHODS.length - 1; i++) {
            if (METHODS[i].equals(name)) {
                return i;
            }
        }
        return METHODS.length - 1;
    }

    // connections and bytes: vertx-micrometer-metrics

    @Override
    public Object connected(SocketAddress remoteAddress, String remoteName) {
        return tcp.connected(remoteAddress, remoteName);
    }

    @Override
    public void disconnected(Object socket, SocketAddress remoteAddress) {
        tcp.disconnected(socket, remoteAddress);
    }

    @Override
    public void bytesRead(Object socket, SocketAddress remoteAddress, long numberOfBytes) {
        tcp.bytesRead(socket, remoteAddress, numberOfBytes);
    }

    @Override
    public void bytesWritten(Object socket, SocketAddress remoteAddress, long numberOfBytes) {
        tcp.bytesWritten(socket, remoteAddress, numberOfBytes);
    }

    @Override
    public void exceptionOccurred(Object socket, SocketAddress remoteAddress, Throwable t) {
        tcp.exceptionOccurred(socket, remoteAddress, t);
    }

    @Override
    public void close() {
        tcp.close();
    }

    /** Meters by method, and by method and status; created on first use, shared by every HTTP server of one Vert.x. */
    static final class Meters {
        private final MeterRegistry registry;
        private final AtomicReferenceArray<PerMethod> byMethod = new AtomicReferenceArray<>(METHODS.length);
        private final AtomicReferenceArray<PerStatus> byStatus = new AtomicReferenceArray<>(METHODS.length * STATUSES);

        Meters(MeterRegistry registry) {
            this.registry = registry;
        }

        PerMethod perMethod(int method) {
            PerMethod m = byMethod.get(method);
            return m != null ? m : createMethod(method);
        }

        PerStatus perStatus(int method, int status) {
            int i = method * STATUSES + (status >= 0 && status < STATUSES ? status : 0);
            PerStatus s = byStatus.get(i);
            return s != null ? s : createStatus(method, status, i);
        }

        // synchronized: the gauge's adder must be the one every caller increments
        private synchronized PerMethod createMethod(int method) {
            PerMethod m = byMethod.get(method);
            if (m == null) {
                m = new PerMethod(registry, METHODS[method]);
                byMethod.set(method, m);
            }
            return m;
        }

        private PerStatus createStatus(int method, int status, int i) {
            // registering twice gives the same meters back, so a race here is harmless
            PerStatus s = new PerStatus(registry, METHODS[method], Integer.toString(status));
            byStatus.set(i, s);
            return s;
        }
    }

    static final class PerMethod {
        final LongAdder active = new LongAdder();
        final DistributionSummary requestBytes;
        final Counter resets;

        PerMethod(MeterRegistry registry, String method) {
            Gauge.builder("vertx.http.server.active.requests", active, LongAdder::doubleValue)
                    .description("Number of requests being processed").tag("method", method).register(registry);
            requestBytes = DistributionSummary.builder("vertx.http.server.request.bytes")
                    .description("Size of requests in bytes").tag("method", method).register(registry);
            resets = Counter.builder("vertx.http.server.request.resets")
                    .description("Number of request resets").tag("method", method).register(registry);
        }
    }

    static final class PerStatus {
        final Counter requests;
        final Timer time;
        final DistributionSummary responseBytes;

        PerStatus(MeterRegistry registry, String method, String code) {
            requests = Counter.builder("vertx.http.server.requests").description("Number of processed requests")
                    .tags("method", method, "code", code).register(registry);
            time = Timer.builder("vertx.http.server.response.time").description("Request processing time")
                    .tags("method", method, "code", code).register(registry);
            responseBytes = DistributionSummary.builder("vertx.http.server.response.bytes")
                    .description("Size of responses in bytes").tags("method", method, "code", code).register(registry);
        }
    }
}
