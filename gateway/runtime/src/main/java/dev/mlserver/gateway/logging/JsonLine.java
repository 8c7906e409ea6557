package dev.mlserver.gateway.logging;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.Arrays;

/**
 * One JSON object on one line, written straight to UTF-8 bytes: the log encoder's writer, cheaper
 * than a Jackson generator per line (no generator, context or buffer-recycler lookups, and the
 * timestamp's date and time of day formatted once a second instead of once a line). Strings are
 * escaped as JSON requires; a lone surrogate becomes U+FFFD; non-finite numbers are written as
 * strings. Not thread-safe: one per line.
 */
final class JsonLine {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static volatile Second second = new Second(Long.MIN_VALUE, new byte[0]);
    private static final int MAX_NAMES = 512;
    private static final java.util.Map<String, byte[]> NAMES = new java.util.concurrent.ConcurrentHashMap<>();

    private byte[] buf;
    private int len;
    private boolean first = true;

    JsonLine(int capacity) {
        buf = new byte[capacity];
        buf[len++] = '{';
    }

    /** The epoch second whose {@code yyyy-MM-ddTHH:mm:ss} is {@code prefix}. */
    private record Second(long epochSecond, byte[] prefix) {}

    JsonLine timestampField(String name, long epochMillis) {
        field(name);
        long s = Math.floorDiv(epochMillis, 1000);
        int millis = (int) Math.floorMod(epochMillis, 1000);
        Second cached = second;
        if (cached.epochSecond != s) {
            String text = Instant.ofEpochSecond(s).toString();
            cached = new Second(s, text.substring(0, text.length() - 1).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            second = cached;
        }
        // as Instant.toString: no fraction on a whole second, else three digits
        ensure(cached.prefix.length + 8);
        buf[len++] = '"';
        System.arraycopy(cached.prefix, 0, buf, len, cached.prefix.length);
        len += cached.prefix.length;
        if (millis != 0) {
            buf[len++] = '.';
            buf[len++] = (byte) ('0' + millis / 100);
            buf[len++] = (byte) ('0' + millis / 10 % 10);
            buf[len++] = (byte) ('0' + millis % 10);
        }
        buf[len++] = 'Z';
        buf[len++] = '"';
        return this;
    }

    JsonLine stringField(String name, String value) {
        field(name);
        if (value == null) {
            raw("null");
        } else {
            string(value);
        }
        return this;
    }

    /** A field whose value is written as JSON by its type: number, boolean, null or string. */
    JsonLine valueField(String name, Object value) {
        field(name);
        if (value == null) {
            raw("null");
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            raw(Long.toString(((Number) value).longValue()));
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isFinite(d)) {
                raw(Double.toString(d));
            } else {
                string(Double.toString(d));
            }
        } else if (value instanceof Boolean b) {
            raw(b ? "true" : "false");
        } else {
            string(value.toString());
        }
        return this;
    }

    /** Closes the object and the line. */
    void endLine() {
        ensure(2);
        buf[len++] = '}';
        buf[len++] = '\n';
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    void writeTo(ByteArrayOutputStream out) {
        out.write(buf, 0, len);
    }

    private void field(String name) {
        byte[] quoted = NAMES.get(name);
        if (quoted == null) {
            quoted = quotedName(name);
        }
        ensure(quoted.length + 1);
        if (!first) {
            buf[len++] = ',';
        }
        first = false;
        System.arraycopy(quoted, 0, buf, len, quoted.length);
        len += quoted.length;
    }

    /** {@code "name":} as bytes; kept for the few hundred names a process logs with. */
    private static byte[] quotedName(String name) {
        JsonLine line = new JsonLine(name.length() + 8);
        line.len = 0;
        line.string(name);
        line.buf[line.len++] = ':';
        byte[] quoted = Arrays.copyOf(line.buf, line.len);
        if (NAMES.size() < MAX_NAMES) {
            NAMES.put(name, quoted);
        }
        return quoted;
    }

    /** ASCII text as it is. */
    @SuppressWarnings("deprecation")
    private void raw(String ascii) {
        int n = ascii.length();
        ensure(n);
        ascii.getBytes(0, n, buf, len);
        len += n;
    }

    @SuppressWarnings("deprecation")
    private void string(String s) {
        int n = s.length();
        ensure(n + 2);
        buf[len++] = '"';
        int plain = 0;
        while (plain < n && plain(s.charAt(plain))) {
            plain++;
        }
        // the plain ASCII head (usually the whole string) in one copy
        s.getBytes(0, plain, buf, len);
        len += plain;
        for (int i = plain; i < n; i++) {
            char c = s.charAt(i);
            if (plain(c)) {
                ensure(1);
                buf[len++] = (byte) c;
            } else {
                i = special(s, i, c);
            }
        }
        ensure(1);
        buf[len++] = '"';
    }

    private static boolean plain(char c) {
        return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
    }

    /** Writes an escaped or multi-byte character at {@code i}; returns the index of its last char. */
    private int special(String s, int i, char c) {
        ensure(6);
        if (c == '"' || c == '\\') {
            buf[len++] = '\\';
            buf[len++] = (byte) c;
        } else if (c < 0x20) {
            buf[len++] = '\\';
            switch (c) {
                case '\n' -> buf[len++] = 'n';
                case '\r' -> buf[len++] = 'r';
                case '\t' -> buf[len++] = 't';
                case '\b' -> buf[len++] = 'b';
                case '\f' -> buf[len++] = 'f';
                default -> {
                    buf[len++] = 'u';
                    buf[len++] = '0';
                    buf[len++] = '0';
                    buf[len++] = HEX[c >> 4];
                    buf[len++] = HEX[c & 0xF];
                }
            }
        } else if (c < 0x800) {
            buf[len++] = (byte) (0xC0 | (c >> 6));
            buf[len++] = (byte) (0x80 | (c & 0x3F));
        } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            int cp = Character.toCodePoint(c, s.charAt(i + 1));
            buf[len++] = (byte) (0xF0 | (cp >> 18));
            buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
            buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            buf[len++] = (byte) (0x80 | (cp & 0x3F));
            return i + 1;
        } else {
            char d = Character.isSurrogate(c) ? '\uFFFD' : c;
            buf[len++] = (byte) (0xE0 | (d >> 12));
            buf[len++] = (byte) (0x80 | ((d >> 6) & 0x3F));
            buf[len++] = (byte) (0x80 | (d & 0x3F));
        }
        return i;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }
}
