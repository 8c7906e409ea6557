package dev.mlserver.gateway.http;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Compressed request bodies and gRPC messages, inflated up to a limit: the limit holds for what
 * they inflate to, not only for what arrives, so a few kilobytes that would inflate to gigabytes
 * stop at the limit. Both codings HTTP and gRPC clients send are read: {@code gzip} and
 * {@code deflate} (zlib's format; a raw deflate stream, as some HTTP clients send, is read too).
 */
public final class Inflation {
    /** The codings read, besides {@code identity}, in the order a refusal lists them. */
    public static final List<String> CODINGS = List.of("gzip", "deflate");

    private static final int CHUNK = 16 * 1024;

    private Inflation() {}

    /** Why a body could not be inflated; {@link #getMessage()} says it for the client, after "the body" or "the message". */
    public static class Failure extends Exception {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /** A coding that is not read here. */
    public static final class Unsupported extends Failure {
        Unsupported(String coding) {
            super("content coding '" + coding + "' is not supported; send " + String.join(", ", CODINGS) + " or identity");
        }
    }

    /** What the body inflates to is over the limit. */
    public static final class TooLarge extends Failure {
        TooLarge(long limit) {
            super("inflates to more than " + limit + " bytes");
        }
    }

    /** The bytes are not what their coding says: truncated, or not that coding at all. */
    public static final class Corrupt extends Failure {
        Corrupt(String coding, String why) {
            super("is not valid " + coding + (why == null ? "" : " (" + why + ")"));
        }
    }

    /** The coding's name as it is compared: trimmed, lower case; {@code x-gzip} is {@code gzip}. */
    public static String normalize(String coding) {
        String c = coding.strip().toLowerCase(Locale.ROOT);
        return c.equals("x-gzip") ? "gzip" : c;
    }

    /** Whether a {@code Content-Encoding} header (or a {@code grpc-encoding}) names any coding besides identity. */
    public static boolean encoded(String header) {
        if (header == null) {
            return false;
        }
        for (String part : header.split(",")) {
            String c = normalize(part);
            if (!c.isEmpty() && !c.equals("identity")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The codings of a {@code Content-Encoding} header in the order they were applied; empty for
     * none or identity alone. The first one not read here fails.
     */
    public static List<String> codings(String header) throws Unsupported {
        if (header == null || header.isBlank()) {
            return List.of();
        }
        List<String> codings = new java.util.ArrayList<>();
        for (String part : header.split(",")) {
            String c = normalize(part);
            if (c.isEmpty() || c.equals("identity")) {
                continue;
            }
            if (!CODINGS.contains(c)) {
                throw new Unsupported(part.strip());
            }
            codings.add(c);
        }
        return codings;
    }

    /** {@code body} with every coding of a {@code Content-Encoding} header undone, last applied first. */
    public static byte[] decode(String header, byte[] body, long limit) throws Failure {
        List<String> codings = codings(header);
        byte[] out = body;
        for (int i = codings.size() - 1; i >= 0; i--) {
            out = inflate(codings.get(i), out, limit);
        }
        return out;
    }

    /** {@code data} in {@code coding} ({@link #CODINGS}), inflated to at most {@code limit} bytes. */
    public static byte[] inflate(String coding, byte[] data, long limit) throws Failure {
        String c = normalize(coding);
        switch (c) {
            case "gzip":
                return read(c, () -> new GZIPInputStream(new ByteArrayInputStream(data), CHUNK), limit);
            case "deflate":
                // zlib's two-byte header: compression method 8, and a check that makes it a multiple of 31
                boolean zlib = data.length >= 2 && (data[0] & 0x0f) == 8 && ((data[0] & 0xff) << 8 | (data[1] & 0xff)) % 31 == 0;
                Inflater inflater = new Inflater(!zlib);
                try {
                    return read(c, () -> new InflaterInputStream(new ByteArrayInputStream(data), inflater, CHUNK), limit);
                } finally {
                    inflater.end();
                }
            default:
                throw new Unsupported(coding);
        }
    }

    private interface Source {
        InputStream open() throws IOException;
    }

    private static byte[] read(String coding, Source source, long limit) throws Failure {
        ByteArrayOutputStream out = new ByteArrayOutputStream(CHUNK);
        byte[] chunk = new byte[CHUNK];
        try (InputStream in = source.open()) {
            for (int n; (n = in.read(chunk)) >= 0; ) {
                if (out.size() + (long) n > limit) {
                    throw new TooLarge(limit);
                }
                out.write(chunk, 0, n);
            }
        } catch (IOException e) {
            throw new Corrupt(coding, e.getMessage());
        }
        return out.toByteArray();
    }
}
