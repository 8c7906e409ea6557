package dev.mlserver.gateway.server;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Limits;
import dev.mlserver.gateway.http.ProtocolRoute;
import dev.mlserver.gateway.metrics.WarmupMark;
import dev.mlserver.gateway.v2.GrpcService;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives each classifier's real predict route, and its Open Inference Protocol infer calls over
 * REST ({@link #protocolTarget}) and gRPC ({@link #grpcTarget}), from inside the process to the
 * address the gateway listens on (loopback when it listens on all), through the whole
 * stack (HTTP parsing, routing, auth, bulkhead, the model, metrics, the access log's encoding and
 * response writing), so that the JIT has compiled the serving path before readiness turns 200. Without it
 * a pod that scales out under load serves its first minute at a fraction of its capacity while
 * the compiler competes with the traffic for the cores.
 *
 * <p>The traffic is shaped like a client's, because code compiled for other traffic is thrown
 * away and compiled again when real traffic takes a branch the warm-up never took: some requests
 * wait in the bulkhead's queue (twice its slots in flight), bodies come compact, spaced (as
 * Python's {@code json.dumps} writes them, with a final newline) and pretty-printed, some requests carry more headers,
 * and connections are closed and opened again.
 *
 * <p>Each classifier gets at least {@code warmup.requests} predictions. With
 * {@code warmup.until_jit_quiet} (the default) all of them then go on until the JIT compiler has
 * spent less than {@link #QUIET_SHARE} of a {@link #QUIET_WINDOW_MS} ms window compiling: the
 * serving path is compiled, whatever the machine's speed. {@code warmup.max_ms} bounds the whole
 * warm-up; all classifiers are warmed at once, so a slow model is cut off by the time limit
 * without delaying the others. A classifier whose example is not answered 200 stops at once; that
 * is reported, never fatal.
 *
 * <p>With bearer tokens on, the requests carry the warm-up's own token ({@link WarmupMark}), which
 * the gateway accepts only while a warm-up runs.
 */
final class ServingWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(ServingWarmup.class);
    /** The window over which the compiler's activity is judged. */
    static final long QUIET_WINDOW_MS = 3000;
    /** The JIT is quiet once it has compiled for less than this share of the window. */
    static final double QUIET_SHARE = 0.03;
    /** How often the compiler's total time is sampled. */
    static final long SAMPLE_MS = 250;
    /** One request in so many on a connection asks for it to be closed, so that closing is warmed too. */
    static final int CLOSE_EVERY = 500;

    /** The wire a target is driven over: HTTP/1.1 on the gateway's port, or gRPC on its gRPC port. */
    enum Wire { HTTP, GRPC }

    /**
     * One classifier's route, bodies of its example (for gRPC, encoded messages), and how many
     * requests it gets in flight.
     */
    record Target(String name, Wire wire, String path, List<Buffer> bodies, int concurrency) {}

    /** What the warm-up did for one classifier. */
    record Outcome(String name, int answered, int failed, String stoppedBecause) {}

    private final Vertx vertx;
    private final InetAddress address;
    private final int port;
    private final int grpcPort;
    private final GatewayConfig.Warmup config;
    private final Map<String, String> headers;
    private final LongSupplier compileMillis;

    /**
     * @param address where the gateway listens, as {@link #address(String)} gives it
     * @param grpcPort the gRPC port, for {@link Wire#GRPC} targets; -1 when gRPC is off
     */
    ServingWarmup(Vertx vertx, InetAddress address, int port, int grpcPort, GatewayConfig.Warmup config,
                  Map<String, String> headers) {
        this(vertx, address, port, grpcPort, config, headers, jitMillis());
    }

    /** @param compileMillis the compiler's total time so far, in ms; null when the JVM does not tell */
    ServingWarmup(Vertx vertx, InetAddress address, int port, int grpcPort, GatewayConfig.Warmup config,
                  Map<String, String> headers, LongSupplier compileMillis) {
        this.vertx = vertx;
        this.address = address;
        this.port = port;
        this.grpcPort = grpcPort;
        this.config = config;
        this.headers = Map.copyOf(headers);
        this.compileMillis = compileMillis;
    }

    /**
     * The address the warm-up connects to for a gateway listening on {@code host}: the loopback
     * address when it listens on every address (or on {@code localhost}), otherwise {@code host}
     * itself, the only address it answers on.
     */
    static InetAddress address(String host) {
        String bare = host == null ? "" : host.strip().replaceAll("^\\[|]$", "");
        if (bare.isEmpty() || bare.equalsIgnoreCase("localhost")) {
            return InetAddress.getLoopbackAddress();
        }
        try {
            InetAddress address = InetAddress.getByName(bare);
            return address.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : address;
        } catch (UnknownHostException e) {
            // the gateway could not have listened on it either
            return InetAddress.getLoopbackAddress();
        }
    }

    /** {@code address:port} as a Host header or an {@code :authority} has it (an IPv6 address in brackets). */
    static String authority(InetAddress address, int port) {
        String host = address.getHostAddress();
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }

    private static LongSupplier jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime : null;
    }

    /**
     * The predict route of a classifier, its example as a compact, a spaced and a pretty-printed body, and
     * its share of requests in flight: at most twice its prediction slots, so that some wait in its
     * queue as under load, and never more than slots and queue hold.
     */
    static Target target(String prefix, String name, JsonNode example, Limits limits, int warmupConcurrency,
                         ObjectMapper mapper) {
        return drive(name, prefix + "/" + name + "/predict", mapper.createObjectNode().set("payload", example), limits,
                warmupConcurrency, mapper);
    }

    /**
     * The Open Inference Protocol's REST infer route of a classifier, with {@code request}, its
     * example as the protocol's tensors: warmed beside the predict route, as its own target.
     */
    static Target protocolTarget(String name, JsonNode request, Limits limits, int warmupConcurrency, ObjectMapper mapper) {
        return drive(name + " (v2 REST)", ProtocolRoute.INFER.path(name), request,
                limits, warmupConcurrency, mapper);
    }

    /**
     * The Open Inference Protocol's gRPC {@code ModelInfer} of a classifier, with {@code messages},
     * its example as encoded {@code ModelInferRequest}s: warmed on the gRPC port as its own target.
     */
    static Target grpcTarget(String name, List<byte[]> messages, Limits limits, int warmupConcurrency) {
        return new Target(name + " (v2 gRPC)", Wire.GRPC, GrpcService.INFER_PATH, messages.stream().map(Buffer::buffer).toList(),
                inFlight(limits, warmupConcurrency));
    }

    private static Target drive(String name, String path, JsonNode body, Limits limits, int warmupConcurrency,
                                ObjectMapper mapper) {
        List<Buffer> bodies;
        try {
            bodies = List.of(Buffer.buffer(mapper.writeValueAsBytes(body)),
                    Buffer.buffer(mapper.writer(new SpacedPrinter()).writeValueAsBytes(body)).appendString("\n"),
                    Buffer.buffer(mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(body)));
        } catch (Exception e) {
            throw new IllegalArgumentException("example of " + name + " cannot be written", e);
        }
        return new Target(name, Wire.HTTP, path, bodies, inFlight(limits, warmupConcurrency));
    }

    private static int inFlight(Limits limits, int warmupConcurrency) {
        int slots = limits.maxConcurrentPredictions();
        return Math.max(1, Math.min(warmupConcurrency, Math.min(2 * slots, slots + limits.maxQueue())));
    }

    /**
     * JSON on one line with a space after each colon and comma, as Python's {@code json.dumps}
     * writes it (the body then gets a final newline, as a file written with {@code print} has).
     */
    private static final class SpacedPrinter extends MinimalPrettyPrinter {
        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }
    }

    /** Warms every target at once; completes (never fails) when all have stopped. */
    Future<List<Outcome>> run(List<Target> targets) {
        if (targets.isEmpty() || !config.enabled()) {
            return Future.succeededFuture(List.of());
        }
        long deadline = System.nanoTime() + config.maxMs() * 1_000_000L;
        JitWatch jit = new JitWatch();
        List<Run> runs = targets.stream().map(target -> new Run(target, deadline, jit)).toList();
        jit.watch(runs);
        WarmupMark.began();
        List<Future<Outcome>> all = runs.stream().map(Run::start).toList();
        return Future.join(all).map(done -> {
            jit.stop();
            return all.stream().map(Future::result).toList();
        }).andThen(done -> WarmupMark.ended());
    }

    /**
     * Samples the compiler's total time, and tells the runs to stop once each has had its
     * {@code warmup.requests} and the compiler has gone quiet.
     */
    private final class JitWatch {
        /** Whether the warm-up waits for the compiler at all; otherwise it is quiet from the start. */
        private final boolean watching = config.untilJitQuiet() && compileMillis != null;
        /** (ms, compiler ms) pairs, oldest first, reaching just over one window back */
        private final List<long[]> samples = new ArrayList<>();
        private List<Run> runs = List.of();
        private long timer = -1;
        private volatile boolean quiet = !watching;

        /** Starts sampling, to judge once {@code runs} have each had their requests. */
        void watch(List<Run> runs) {
            this.runs = runs;
            if (watching) {
                sample();
                timer = vertx.setPeriodic(SAMPLE_MS, id -> sample());
            } else if (config.untilJitQuiet()) {
                LOG.info("warm-up: this JVM does not report its compiler's time; each classifier gets warmup.requests");
            }
        }

        private void sample() {
            long now = System.nanoTime() / 1_000_000;
            long compiled = compileMillis.getAsLong();
            samples.add(new long[] {now, compiled});
            while (samples.size() > 1 && now - samples.get(1)[0] >= QUIET_WINDOW_MS) {
                samples.remove(0);
            }
            long[] first = samples.get(0);
            if (now - first[0] >= QUIET_WINDOW_MS && compiled - first[1] < QUIET_SHARE * (now - first[0])
                    && runs.stream().allMatch(Run::hadItsRequests)) {
                quiet = true;
                stop();
            }
        }

        boolean quiet() {
            return quiet;
        }

        /** Why a run that has had its requests stops once the compiler is quiet. */
        String reason() {
            return watching ? "JIT quiet" : "done";
        }

        void stop() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
        }
    }

    /** A connection of the warm-up's client, one exchange at a time. */
    interface Connection {
        /**
         * Sends the target's {@code n}th request, asking with {@code close} to close the connection
         * after it, and reads its whole answer.
         *
         * @return null when answered as a client wants (200, or a gRPC message); otherwise what came instead
         */
        String exchange(int n, boolean close) throws IOException;

        /** Whether the gateway has said it closes the connection after this answer. */
        boolean closing();

        void close();
    }

    /** Opens a connection to a target. */
    private interface Opener {
        Connection open() throws IOException;
    }

    /**
     * One classifier's warm-up: {@code concurrency} connections, each driven by its own thread,
     * sharing one count. The client is plain blocking sockets, sharing no code with the server's
     * Netty and Vert.x: a client in the same JVM that ran through them would have the JIT compile
     * the server's hot path for the client's types too, and leave it slower.
     */
    private final class Run {
        private final Target target;
        private final long deadline;
        private final Opener opener;
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicInteger answered = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        private final AtomicInteger loops = new AtomicInteger();
        private final Promise<Outcome> done = Promise.promise();
        private final JitWatch jit;
        private volatile String stop;

        Run(Target target, long deadline, JitWatch jit) {
            this.target = target;
            this.deadline = deadline;
            this.jit = jit;
            if (target.wire() == Wire.GRPC) {
                String authority = authority(address, grpcPort);
                byte[][] headerBlocks = {GrpcWarmupConnection.headerBlock(target.path(), authority, headers, false),
                        GrpcWarmupConnection.headerBlock(target.path(), authority, headers, true)};
                byte[][] messages = target.bodies().stream().map(m -> GrpcWarmupConnection.framed(m.getBytes()))
                        .toArray(byte[][]::new);
                opener = () -> new GrpcWarmupConnection(new InetSocketAddress(address, grpcPort), headerBlocks, messages);
                return;
            }
            // by body, by whether more headers are sent, by whether the connection is to close
            byte[][][][] requests = new byte[target.bodies().size()][2][2][];
            for (int b = 0; b < requests.length; b++) {
                for (int more = 0; more < 2; more++) {
                    for (int close = 0; close < 2; close++) {
                        requests[b][more][close] = request(target.bodies().get(b), more == 1, close == 1);
                    }
                }
            }
            opener = () -> new HttpConnection(new InetSocketAddress(address, port), requests);
        }

        private byte[] request(Buffer body, boolean moreHeaders, boolean close) {
            StringBuilder head = new StringBuilder("POST ").append(target.path()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(authority(address, port)).append("\r\n")
                    .append("Content-Type: application/json\r\n")
                    .append("Content-Length: ").append(body.length()).append("\r\n");
            headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
            if (moreHeaders) {
                head.append("Accept: application/json\r\nUser-Agent: mlserver-warmup\r\nAccept-Encoding: identity\r\n");
            }
            if (close) {
                head.append("Connection: close\r\n");
            }
            return Buffer.buffer(head.append("\r\n").toString()).appendBuffer(body).getBytes();
        }

        Future<Outcome> start() {
            loops.set(target.concurrency());
            for (int i = 0; i < target.concurrency(); i++) {
                Thread thread = new Thread(this::drive, "mlserver-warmup-" + target.name() + "-" + i);
                thread.setDaemon(true);
                thread.start();
            }
            return done.future();
        }

        /** Whether this classifier has had its {@code warmup.requests}, or has stopped. */
        boolean hadItsRequests() {
            return stop != null || sent.get() >= config.requests();
        }

        /** One connection's loop: a request, its whole answer, the next request. */
        private void drive() {
            Connection connection = null;
            try {
                while (stopReason() == null) {
                    int n = sent.getAndIncrement();
                    if (enough(n)) {
                        // another connection sent the last one while this one checked: not sent, not counted
                        sent.decrementAndGet();
                        break;
                    }
                    boolean close = n % CLOSE_EVERY == CLOSE_EVERY - 1;
                    if (connection == null) {
                        connection = opener.open();
                    }
                    String failure = connection.exchange(n, close);
                    if (failure == null) {
                        answered.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                        finish(failure);
                    }
                    if (close || connection.closing()) {
                        connection.close();
                        connection = null;
                    }
                }
            } catch (IOException | RuntimeException e) {
                failed.incrementAndGet();
                finish(e.toString());
            } finally {
                if (connection != null) {
                    connection.close();
                }
                finish(stopReason());
                if (loops.decrementAndGet() == 0) {
                    done.complete(new Outcome(target.name(), answered.get(), failed.get(), stop));
                }
            }
        }

        private void finish(String reason) {
            synchronized (this) {
                if (stop == null) {
                    stop = reason;
                }
            }
        }

        private String stopReason() {
            if (stop != null) {
                return stop;
            }
            if (System.nanoTime() >= deadline) {
                return "warmup.max_ms reached";
            }
            if (enough(sent.get())) {
                return jit.reason();
            }
            return null;
        }

        /** Whether {@code count} requests are all this run needs: its {@code warmup.requests}, and the compiler quiet. */
        private boolean enough(int count) {
            return count >= config.requests() && jit.quiet();
        }
    }

    /**
     * A kept-alive HTTP/1.1 connection to the gateway on loopback, one exchange at a time: the
     * {@code n}th request is {@code requests[n % bodies][(n / 2) % 2][close ? 1 : 0]}, by body, by
     * whether more headers are sent, by whether the connection is to close.
     */
    private static final class HttpConnection implements Connection {
        private static final int TIMEOUT_MS = 30_000;
        private final byte[][][][] requests;
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;
        private final byte[] skip = new byte[8192];
        private boolean closing;

        HttpConnection(InetSocketAddress gateway, byte[][][][] requests) throws IOException {
            this.requests = requests;
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(TIMEOUT_MS);
            socket.connect(gateway, TIMEOUT_MS);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        }

        @Override
        public String exchange(int n, boolean close) throws IOException {
            int status = exchange(requests[n % requests.length][(n / 2) % 2][close ? 1 : 0]);
            return status == 200 ? null : "answered " + status;
        }

        @Override
        public boolean closing() {
            return closing;
        }

        /** Sends one request and reads its whole answer; its status. */
        private int exchange(byte[] request) throws IOException {
            out.write(request);
            out.flush();
            String statusLine = line();
            if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
                throw new IOException("not an HTTP/1.1 answer: " + statusLine);
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = -1;
            for (String header = line(); !header.isEmpty(); header = line()) {
                int colon = header.indexOf(':');
                String name = colon < 0 ? header : header.substring(0, colon).trim();
                String value = colon < 0 ? "" : header.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("content-length")) {
                    length = Long.parseLong(value);
                } else if (name.equalsIgnoreCase("connection") && value.equalsIgnoreCase("close")) {
                    closing = true;
                }
            }
            if (length < 0) {
                throw new IOException("an answer without Content-Length");
            }
            for (long left = length; left > 0; ) {
                int read = in.read(skip, 0, (int) Math.min(skip.length, left));
                if (read < 0) {
                    throw new EOFException("connection closed in the middle of an answer");
                }
                left -= read;
            }
            return status;
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new EOFException("connection closed before the answer ended");
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a loopback socket: nothing to do about it
            }
        }
    }

    static void log(List<Outcome> outcomes, long tookMillis) {
        if (outcomes.isEmpty()) {
            return;
        }
        LOG.info("serving path warmed in {} ms: {}", tookMillis, outcomes.stream()
                .map(o -> o.name() + " " + o.answered() + " (" + o.stoppedBecause() + ")").toList());
        outcomes.stream().filter(o -> o.failed() > 0).forEach(o -> LOG.warn(
                "warm-up of {}: {} request(s) not answered 200 ({}); it serves regardless", o.name(), o.failed(), o.stoppedBecause()));
    }
}
