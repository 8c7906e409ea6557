package dev.mlserver.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One raw HTTP/1.1 connection kept open across requests, for clients that send on their own
 * schedule: a byte at a time, half a body, a request after the server began shutting down.
 */
public final class RawConnection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;

    private RawConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    public static RawConnection open(int port) throws IOException {
        return open(port, 0);
    }

    /** With {@code receiveBuffer} bytes of socket receive buffer (0: the system's, growing as it likes): a client slow to read has a small one. */
    public static RawConnection open(int port, int receiveBuffer) throws IOException {
        Socket socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setTcpNoDelay(true);
        return new RawConnection(socket);
    }

    /** Writes bytes as they are; false when the server had already closed or reset the connection. */
    public boolean send(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public boolean send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Reads one response with a {@code Content-Length} body; empty when the connection ended, or
     * nothing complete came within {@code timeoutMillis}.
     */
    public Optional<RawHttp.Response> read(int timeoutMillis) {
        try {
            socket.setSoTimeout(timeoutMillis);
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int last = 0;
            while (last != 0x0d0a0d0a) {
                int b = in.read();
                if (b < 0) {
                    return Optional.empty();
                }
                head.write(b);
                last = (last << 8) | b;
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            String[] status = lines[0].split(" ", 3);
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
                }
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] body = in.readNBytes(length);
            if (body.length < length) {
                return Optional.empty();
            }
            return Optional.of(new RawHttp.Response(Integer.parseInt(status[1]), headers, body, false));
        } catch (SocketTimeoutException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Whether the server has closed the connection: end of stream (or a reset) within {@code timeoutMillis}. */
    public boolean closedByServer(int timeoutMillis) {
        try {
            socket.setSoTimeout(timeoutMillis);
            byte[] skipped = new byte[4096];
            while (in.read(skipped) >= 0) {
                // an answer written before the close: skip it
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
