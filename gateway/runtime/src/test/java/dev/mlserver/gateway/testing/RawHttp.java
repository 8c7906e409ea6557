package dev.mlserver.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests no well-behaved client would send: any bytes in the
 * request line, headers and body. One request per connection ({@code Connection: close}).
 */
public final class RawHttp {
    private RawHttp() {}

    /**
     * @param headers lower-case names
     * @param timedOut true when no complete answer came within the timeout
     */
    public record Response(int status, Map<String, String> headers, byte[] body, boolean timedOut) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Sends {@code request} as is and reads the answer until the server closes. */
    public static Response exchange(int port, byte[] request, int timeoutMillis) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before reading everything (413): read what it said
            }
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[16384];
            long deadline = System.currentTimeMillis() + timeoutMillis;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, n);
                    if (complete(received.toByteArray()) || System.currentTimeMillis() > deadline) {
                        break;
                    }
                }
            } catch (SocketTimeoutException e) {
                return parse(received.toByteArray(), true);
            } catch (IOException e) {
                // reset after the answer was sent: parse what arrived
            }
            return parse(received.toByteArray(), false);
        }
    }

    /** Whether {@code bytes} hold a whole response with a Content-Length body. */
    private static boolean complete(byte[] bytes) {
        int end = indexOf(bytes, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (end < 0) {
            return false;
        }
        String head = new String(bytes, 0, end, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        for (String line : head.split("\r\n")) {
            if (line.startsWith("content-length:")) {
                return bytes.length - end - 4 >= Long.parseLong(line.substring(15).trim());
            }
        }
        return false;
    }

    private static Response parse(byte[] bytes, boolean timedOut) {
        int end = indexOf(bytes, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (end < 0) {
            return new Response(-1, Map.of(), bytes, timedOut);
        }
        String[] lines = new String(bytes, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        int status = statusLine.length > 1 && statusLine[1].matches("\\d{3}") ? Integer.parseInt(statusLine[1]) : -1;
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        byte[] body = Arrays.copyOfRange(bytes, end + 4, bytes.length);
        String length = headers.get("content-length");
        if (length != null && length.matches("\\d+") && Integer.parseInt(length) <= body.length) {
            body = Arrays.copyOf(body, Integer.parseInt(length));
        }
        return new Response(status, headers, body, timedOut);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
