package dev.mlserver.gateway.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Standard output without a system call per line: callers (event loops) only enqueue, without a
 * lock; one thread encodes whatever has queued up and writes it with one {@code write}. An idle
 * writer is woken by the first line, so a quiet server's lines are not held back; a busy one
 * lingers {@link #LINGER_MS} ms after each write to let lines gather, so that under load callers
 * neither wake it nor contend with it, and a second of traffic costs a few hundred writes, not one
 * write and one thread wake-up per line. When the queue is full a line is dropped, never waited
 * for, and the drop is counted in the next line written.
 *
 * <p>With {@code <discard>true</discard>} the lines are encoded as usual and then thrown away: the
 * gateway's warm-up logs through such an appender so that the access log's code is compiled before
 * readiness without its lines reaching the console.
 */
public final class BatchingConsoleAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    static final int QUEUE = 8192;
    static final int BATCH = 512;
    /** How long a writer that has just written waits for more lines before writing again. */
    static final long LINGER_MS = 5;
    /** How long an idle writer sleeps before it looks again, should a wake-up be missed. */
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private Encoder<ILoggingEvent> encoder;
    private final Queue<ILoggingEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** True while the writer waits for a first line; a caller that enqueues then wakes it. */
    private volatile boolean idle;
    private volatile Thread writer;
    private final LongAdder dropped = new LongAdder();
    private OutputStream out = new FileOutputStream(FileDescriptor.out);

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    public Encoder<ILoggingEvent> getEncoder() {
        return encoder;
    }

    /** Whether encoded lines are thrown away rather than written to standard output. */
    public void setDiscard(boolean discard) {
        this.out = discard ? OutputStream.nullOutputStream() : new FileOutputStream(FileDescriptor.out);
    }

    /** For tests: where the lines go instead of standard output. */
    void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void start() {
        if (encoder == null) {
            addError("no encoder for " + getName());
            return;
        }
        writer = new Thread(this::drain, "mlserver-log-writer" + (LogSetup.CONSOLE.equals(getName()) ? "" : "-" + getName()));
        writer.setDaemon(true);
        super.start();
        writer.start();
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        writer.interrupt();
        try {
            writer.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        if (queued.incrementAndGet() > QUEUE) {
            queued.decrementAndGet();
            dropped.increment();
            return;
        }
        queue.offer(event);
        if (idle) {
            LockSupport.unpark(writer);
        }
    }

    private void drain() {
        List<ILoggingEvent> batch = new ArrayList<>(BATCH);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        boolean stopping = false;
        while (!stopping || !queue.isEmpty()) {
            for (ILoggingEvent e; batch.size() < BATCH && (e = queue.poll()) != null; ) {
                batch.add(e);
            }
            queued.addAndGet(-batch.size());
            int written = batch.size();
            if (written > 0) {
                write(batch, bytes);
                batch.clear();
                bytes.reset();
            }
            if (stopping || written == BATCH) {
                continue;
            }
            if (written > 0) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(LINGER_MS));
            } else {
                // idle is set before the queue is looked at again, and a caller enqueues before it
                // reads idle: either the writer sees the new line or the caller sees idle and wakes it
                idle = true;
                if (queue.isEmpty()) {
                    LockSupport.parkNanos(this, IDLE_NANOS);
                }
                idle = false;
            }
            stopping = Thread.interrupted() || !isStarted();
        }
    }

    private void write(List<ILoggingEvent> batch, ByteArrayOutputStream bytes) {
        long lost = dropped.sumThenReset();
        if (lost > 0) {
            bytes.writeBytes(("{\"level\":\"WARN\",\"logger\":\"" + BatchingConsoleAppender.class.getName()
                    + "\",\"msg\":\"log queue full: lines dropped\",\"dropped\":" + lost + "}\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        for (ILoggingEvent e : batch) {
            try {
                if (encoder instanceof JsonLineEncoder json) {
                    json.encodeTo(e, bytes);
                } else {
                    bytes.writeBytes(encoder.encode(e));
                }
            } catch (RuntimeException failure) {
                addError("cannot encode a log event", failure);
            }
        }
        try {
            bytes.writeTo(out);
            out.flush();
        } catch (IOException failure) {
            addError("cannot write log lines", failure);
        }
    }
}
