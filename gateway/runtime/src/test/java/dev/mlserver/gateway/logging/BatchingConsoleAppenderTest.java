package dev.mlserver.gateway.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class BatchingConsoleAppenderTest {
    final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    final Logger logger = context.getLogger("mlserver.batching");

    BatchingConsoleAppender appender(ByteArrayOutputStream out) {
        JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext(context);
        encoder.start();
        BatchingConsoleAppender appender = new BatchingConsoleAppender();
        appender.setContext(context);
        appender.setName("test");
        appender.setEncoder(encoder);
        appender.setOutputStream(out);
        appender.start();
        return appender;
    }

    LoggingEvent event(int n) {
        return new LoggingEvent("x", logger, Level.INFO, "line {}", null, new Object[] {n});
    }

    @Test
    void everyLineIsWrittenInOrderAndPromptly() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BatchingConsoleAppender appender = appender(out);
        for (int i = 0; i < 1000; i++) {
            appender.doAppend(event(i));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> out.toString(StandardCharsets.UTF_8).lines().count() == 1000);
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        for (int i = 0; i < 1000; i++) {
            assertThat(lines[i]).contains("\"msg\":\"line " + i + "\"");
        }
        appender.stop();
    }

    @Test
    void aSteadyStreamOfLinesIsWrittenOncePerLingerNotOncePerLine() {
        CountingStream out = new CountingStream();
        BatchingConsoleAppender appender = appender(out);
        int lines = 200;
        long start = System.nanoTime();
        for (int i = 0; i < lines; i++) {
            appender.doAppend(event(i));
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        await().atMost(Duration.ofSeconds(30)).until(() -> out.toString(StandardCharsets.UTF_8).lines().count() == lines);
        // one write when the first line wakes the writer, then at most one per linger period
        assertThat((long) out.writes).as("writes for %d lines over %d ms", lines, elapsedMs)
                .isLessThanOrEqualTo(elapsedMs / BatchingConsoleAppender.LINGER_MS + 3);
        appender.stop();
    }

    /** Counts the writes it is given. */
    static final class CountingStream extends ByteArrayOutputStream {
        volatile int writes;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes++;
            super.write(b, off, len);
        }
    }

    @Test
    void stoppingWritesWhatIsStillQueued() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BatchingConsoleAppender appender = appender(out);
        for (int i = 0; i < 100; i++) {
            appender.doAppend(event(i));
        }
        appender.stop();
        assertThat(out.toString(StandardCharsets.UTF_8).lines().count()).isEqualTo(100);
    }
}
