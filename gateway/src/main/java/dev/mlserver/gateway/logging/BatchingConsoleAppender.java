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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Standard output without a system call per line: callers (event loops) only enqueue; one
 * thread encodes whatever has queued up and writes it with one {@code write}, and does so as
 * soon as there is anything, so a quiet server's lines are not held back. When the queue is full
 * a line is dropped, never waited for, and the drop is counted in the next line written.
 */
public final class BatchingConsoleAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    static final int QUEUE = 8192;
    static final int BATCH = 512;

    private Encoder<ILoggingEvent> encoder;
    private BlockingQueue<ILoggingEvent> queue;
    private Thread writer;
    private final LongAdder dropped = new LongAdder();
    private OutputStream out = new FileOutputStream(FileDescriptor.out);

    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    public Encoder<ILoggingEvent> getEncoder() {
        return encoder;
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
        queue = new ArrayBlockingQueue<>(QUEUE);
        writer = new Thread(this::drain, "mlserver-log-writer");
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
        if (!queue.offer(event)) {
            dropped.increment();
        }
    }

    private void drain() {
        List<ILoggingEvent> batch = new ArrayList<>(BATCH);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        boolean stopping = false;
        while (!stopping || !queue.isEmpty()) {
            try {
                ILoggingEvent first = stopping ? queue.poll() : queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                stopping = true;
                continue;
            }
            queue.drainTo(batch, BATCH - 1);
            write(batch, bytes);
            batch.clear();
            bytes.reset();
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
                bytes.writeBytes(encoder.encode(e));
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
