package dev.mlserver.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The gateway's own version, as the build wrote it into {@code version.properties} beside this
 * class: the same in the runtime jar, the CLI jar and a test's class path.
 */
public final class GatewayVersion {
    private static final String RESOURCE = "version.properties";
    private static final String CURRENT = read();

    private GatewayVersion() {}

    /** The version of the gateway running, e.g. {@code 0.1.0}. */
    public static String current() {
        return CURRENT;
    }

    private static String read() {
        try (InputStream in = GatewayVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing beside " + GatewayVersion.class.getName()
                        + ": the gateway was not built by its Maven build");
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "");
            if (version.isBlank() || version.contains("${")) {
                throw new IllegalStateException(RESOURCE + " holds no version: '" + version + "'");
            }
            return version.strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }
}
