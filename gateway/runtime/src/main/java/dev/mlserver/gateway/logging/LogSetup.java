package dev.mlserver.gateway.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.encoder.Encoder;
import dev.mlserver.gateway.config.GatewayConfig;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code logging.format} to the console appender of {@code logback.xml}, which starts
 * out as JSON: the config file is read after logback has started. The warm-up's discarding
 * appender follows the console, so that the warm-up compiles the encoder the console uses.
 */
public final class LogSetup {
    /** The console appender of logback.xml. */
    static final String CONSOLE = "CONSOLE";
    /** The readable pattern for {@code logging.format: text}; key-value pairs at the end. */
    static final String TEXT_PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg %kvp%n";

    private LogSetup() {}

    /** Switches the console (and the warm-up's appender) to {@code format}; does nothing when logback is not the backend. */
    public static void apply(GatewayConfig.LogFormat configured) {
        GatewayConfig.LogFormat format = configured.resolve();
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return;
        }
        for (BatchingConsoleAppender appender : appenders(context)) {
            switchFormat(context, appender, format);
        }
    }

    private static void switchFormat(LoggerContext context, BatchingConsoleAppender appender, GatewayConfig.LogFormat format) {
        boolean json = appender.getEncoder() instanceof JsonLineEncoder;
        if (json == (format == GatewayConfig.LogFormat.JSON)) {
            return;
        }
        Encoder<ILoggingEvent> encoder;
        if (format == GatewayConfig.LogFormat.JSON) {
            encoder = new JsonLineEncoder();
        } else {
            PatternLayoutEncoder pattern = new PatternLayoutEncoder();
            pattern.setPattern(TEXT_PATTERN);
            encoder = pattern;
        }
        encoder.setContext(context);
        encoder.start();
        appender.stop();
        appender.setEncoder(encoder);
        appender.start();
    }

    /** The console appender and the warm-up's, which encodes as the console does. */
    private static Set<BatchingConsoleAppender> appenders(LoggerContext context) {
        Set<BatchingConsoleAppender> found = new LinkedHashSet<>();
        for (ch.qos.logback.classic.Logger logger : context.getLoggerList()) {
            for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof BatchingConsoleAppender appender) {
                    found.add(appender);
                }
            }
        }
        return found;
    }
}
