package dev.mlserver.gateway.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per log line: {@code ts}, {@code level}, {@code logger}, {@code thread},
 * {@code msg}, then the event's SLF4J key-value pairs and MDC as top-level fields, and
 * {@code error} and {@code stack} when it carries an exception.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
    private static final byte[] EMPTY = new byte[0];

    @Override
    public byte[] headerBytes() {
        return EMPTY;
    }

    @Override
    public byte[] footerBytes() {
        return EMPTY;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return line(event).toByteArray();
    }

    /** Encodes {@code event} onto the end of {@code out}, without an intermediate array. */
    void encodeTo(ILoggingEvent event, ByteArrayOutputStream out) {
        line(event).writeTo(out);
    }

    private static JsonLine line(ILoggingEvent event) {
        JsonLine line = new JsonLine(384);
        line.timestampField("ts", event.getTimeStamp())
                .stringField("level", event.getLevel().toString())
                .stringField("logger", event.getLoggerName())
                .stringField("thread", event.getThreadName())
                .stringField("msg", event.getFormattedMessage());
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null) {
            for (int i = 0; i < pairs.size(); i++) {
                KeyValuePair kv = pairs.get(i);
                line.valueField(kv.key, kv.value);
            }
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null && !mdc.isEmpty()) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                line.stringField(e.getKey(), e.getValue());
            }
        }
        IThrowableProxy error = event.getThrowableProxy();
        if (error != null) {
            line.stringField("error", error.getClassName() + ": " + error.getMessage());
            line.stringField("stack", ThrowableProxyUtil.asString(error));
        }
        line.endLine();
        return line;
    }
}
