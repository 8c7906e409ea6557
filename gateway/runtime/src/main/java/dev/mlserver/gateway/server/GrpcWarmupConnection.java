package dev.mlserver.gateway.server;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * The warm-up's gRPC client: HTTP/2 over cleartext with prior knowledge, on a plain blocking
 * socket (as the warm-up's HTTP/1.1 client, it shares no code with the server's Netty), one
 * unary call at a time. It speaks just enough HTTP/2 for that: the preface and settings, a call's
 * HEADERS and DATA within the server's flow-control windows, window updates for what it reads,
 * PING and SETTINGS acknowledgements, and GOAWAY to close.
 *
 * <p>It does not decode the server's header blocks (HPACK): a call is answered when its response
 * carries a message before the stream ends. A unary call that fails is answered "trailers only",
 * without a message.
 */
final class GrpcWarmupConnection implements ServingWarmup.Connection {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0;
    private static final int HEADERS = 1;
    private static final int RST_STREAM = 3;
    private static final int SETTINGS = 4;
    private static final int PING = 6;
    private static final int GOAWAY = 7;
    private static final int WINDOW_UPDATE = 8;
    private static final int CONTINUATION = 9;
    private static final int END_STREAM = 0x1;
    private static final int ACK = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int SETTINGS_ENABLE_PUSH = 0x2;
    private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    private static final int SETTINGS_MAX_FRAME_SIZE = 0x5;
    /** Every window before the peer's settings say otherwise (RFC 9113, 6.9.2). */
    private static final int DEFAULT_WINDOW = 65_535;
    private static final int DEFAULT_MAX_FRAME = 16_384;
    private static final int TIMEOUT_MS = 30_000;

    /** The request header blocks: plain, and with more headers. */
    private final byte[][] headerBlocks;
    /** The request messages, each framed. */
    private final byte[][] messages;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int nextStream = 1;
    /** What the server lets this side send on the connection, and on each new stream. */
    private long connectionWindow = DEFAULT_WINDOW;
    private long initialStreamWindow = DEFAULT_WINDOW;
    private int maxFrame = DEFAULT_MAX_FRAME;
    /** Whether the server has said it is closing the connection (GOAWAY). */
    private boolean closing;

    /**
     * @param headerBlocks {@link #headerBlock}s; the {@code n}th call sends {@code headerBlocks[(n / 2) % 2]}
     * @param messages {@link #framed} messages; the {@code n}th call sends {@code messages[n % messages.length]}
     */
    GrpcWarmupConnection(InetSocketAddress gateway, byte[][] headerBlocks, byte[][] messages) throws IOException {
        this.headerBlocks = headerBlocks;
        this.messages = messages;
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(TIMEOUT_MS);
        socket.connect(gateway, TIMEOUT_MS);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 16 * 1024));
        out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
        out.write(PREFACE);
        byte[] settings = new byte[6];
        settings[1] = SETTINGS_ENABLE_PUSH; // value 0: no pushes
        frame(SETTINGS, 0, 0, settings, 0, settings.length);
        out.flush();
    }

    /**
     * The request headers of one call to {@code path}, as an HPACK header block of literal fields
     * (never indexed, so that no table is shared with the server): the pseudo-headers, gRPC's own,
     * {@code extra}, and with {@code more} what client libraries add beside them.
     */
    static byte[] headerBlock(String path, String authority, Map<String, String> extra, boolean more) {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        literal(block, ":method", "POST");
        literal(block, ":scheme", "http");
        literal(block, ":path", path);
        literal(block, ":authority", authority);
        literal(block, "content-type", "application/grpc");
        literal(block, "te", "trailers");
        extra.forEach((name, value) -> literal(block, name.toLowerCase(Locale.ROOT), value));
        if (more) {
            literal(block, "user-agent", "mlserver-warmup grpc/1.0");
            literal(block, "grpc-accept-encoding", "identity");
            literal(block, "grpc-timeout", "30S");
        }
        return block.toByteArray();
    }

    /** A literal field without indexing, its name and value as plain strings (RFC 7541, 6.2.2). */
    private static void literal(ByteArrayOutputStream block, String name, String value) {
        block.write(0);
        string(block, name.getBytes(StandardCharsets.UTF_8));
        string(block, value.getBytes(StandardCharsets.UTF_8));
    }

    private static void string(ByteArrayOutputStream block, byte[] bytes) {
        int length = bytes.length;
        if (length < 127) {
            block.write(length);
        } else {
            block.write(127);
            for (length -= 127; length >= 128; length >>>= 7) {
                block.write((length & 0x7f) | 0x80);
            }
            block.write(length);
        }
        block.write(bytes, 0, bytes.length);
    }

    /** {@code message} as gRPC frames it on the wire: uncompressed, after its 4-byte length. */
    static byte[] framed(byte[] message) {
        byte[] framed = new byte[5 + message.length];
        framed[1] = (byte) (message.length >>> 24);
        framed[2] = (byte) (message.length >>> 16);
        framed[3] = (byte) (message.length >>> 8);
        framed[4] = (byte) message.length;
        System.arraycopy(message, 0, framed, 5, message.length);
        return framed;
    }

    /** The {@code n}th call; with {@code close}, {@link #close} then says goodbye. */
    @Override
    public String exchange(int n, boolean close) throws IOException {
        return call(headerBlocks[(n / 2) % headerBlocks.length], messages[n % messages.length]);
    }

    /**
     * One unary call: {@code headerBlock}, then {@code framedMessage}, then the whole answer.
     *
     * @return null when the call was answered with a message; otherwise what it got instead
     */
    String call(byte[] headerBlock, byte[] framedMessage) throws IOException {
        if (headerBlock.length > maxFrame) {
            throw new IOException("request headers of " + headerBlock.length + " bytes do not fit one frame");
        }
        int stream = nextStream;
        nextStream += 2;
        frame(HEADERS, END_HEADERS, stream, headerBlock, 0, headerBlock.length);
        long streamWindow = initialStreamWindow;
        int sent = 0;
        while (sent < framedMessage.length) {
            int chunk = (int) Math.min(Math.min(framedMessage.length - sent, maxFrame), Math.min(connectionWindow, streamWindow));
            if (chunk <= 0) {
                out.flush();
                Answer waiting = new Answer(stream);
                read(waiting);
                if (waiting.ended) {
                    return waiting.failure != null ? waiting.failure : "the server ended the call before its request";
                }
                streamWindow += waiting.streamWindowUpdates;
                continue;
            }
            boolean last = sent + chunk == framedMessage.length;
            frame(DATA, last ? END_STREAM : 0, stream, framedMessage, sent, chunk);
            sent += chunk;
            connectionWindow -= chunk;
            streamWindow -= chunk;
        }
        out.flush();
        Answer answer = new Answer(stream);
        while (!answer.ended) {
            read(answer);
        }
        if (answer.failure != null) {
            return answer.failure;
        }
        return answer.messageBytes > 0 ? null : "answered without a message (a gRPC error status)";
    }

    /** What one call's stream has received so far. */
    private static final class Answer {
        final int stream;
        long messageBytes;
        long streamWindowUpdates;
        boolean ended;
        /** The stream ends with the header block that {@code END_STREAM} began, once it is complete. */
        boolean endsWithHeaders;
        String failure;

        Answer(int stream) {
            this.stream = stream;
        }
    }

    /** Reads one frame and does what it asks; the frames of {@code answer}'s stream go to it. */
    private void read(Answer answer) throws IOException {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fff_ffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        boolean ours = stream == answer.stream;
        switch (type) {
            case DATA -> {
                int padding = (flags & PADDED) != 0 && length > 0 ? 1 + (payload[0] & 0xff) : 0;
                if (length > 0) {
                    // give back what was read, so that the server's windows never close
                    windowUpdate(0, length);
                    if (ours && (flags & END_STREAM) == 0) {
                        windowUpdate(stream, length);
                    }
                    out.flush();
                }
                if (ours) {
                    answer.messageBytes += length - padding;
                    answer.ended = (flags & END_STREAM) != 0;
                }
            }
            case HEADERS, CONTINUATION -> {
                if (ours) {
                    answer.endsWithHeaders |= type == HEADERS && (flags & END_STREAM) != 0;
                    answer.ended = answer.endsWithHeaders && (flags & END_HEADERS) != 0;
                }
            }
            case RST_STREAM -> {
                if (ours) {
                    answer.failure = "the server reset the call";
                    answer.ended = true;
                }
            }
            case SETTINGS -> {
                if ((flags & ACK) == 0) {
                    settings(payload);
                    frame(SETTINGS, ACK, 0, new byte[0], 0, 0);
                    out.flush();
                }
            }
            case PING -> {
                if ((flags & ACK) == 0) {
                    frame(PING, ACK, 0, payload, 0, payload.length);
                    out.flush();
                }
            }
            case WINDOW_UPDATE -> {
                long increment = length == 4 ? (((payload[0] & 0x7fL) << 24) | ((payload[1] & 0xffL) << 16)
                        | ((payload[2] & 0xffL) << 8) | (payload[3] & 0xffL)) : 0;
                if (stream == 0) {
                    connectionWindow += increment;
                } else if (ours) {
                    answer.streamWindowUpdates += increment;
                }
            }
            case GOAWAY -> {
                closing = true;
                int lastStream = length >= 4 ? (((payload[0] & 0x7f) << 24) | ((payload[1] & 0xff) << 16)
                        | ((payload[2] & 0xff) << 8) | (payload[3] & 0xff)) : 0;
                if (lastStream < answer.stream) {
                    answer.failure = "the server closed the connection before the call (GOAWAY)";
                    answer.ended = true;
                }
            }
            default -> {
                // PRIORITY, PUSH_PROMISE (refused by the settings) and unknown frames ask nothing of a client
            }
        }
    }

    private void settings(byte[] payload) {
        for (int i = 0; i + 6 <= payload.length; i += 6) {
            int id = ((payload[i] & 0xff) << 8) | (payload[i + 1] & 0xff);
            long value = ((payload[i + 2] & 0xffL) << 24) | ((payload[i + 3] & 0xffL) << 16)
                    | ((payload[i + 4] & 0xffL) << 8) | (payload[i + 5] & 0xffL);
            if (id == SETTINGS_INITIAL_WINDOW_SIZE) {
                initialStreamWindow = value;
            } else if (id == SETTINGS_MAX_FRAME_SIZE) {
                maxFrame = (int) Math.min(value, Integer.MAX_VALUE);
            }
        }
    }

    private void windowUpdate(int stream, int increment) throws IOException {
        byte[] payload = {(byte) (increment >>> 24), (byte) (increment >>> 16), (byte) (increment >>> 8), (byte) increment};
        frame(WINDOW_UPDATE, 0, stream, payload, 0, payload.length);
    }

    private void frame(int type, int flags, int stream, byte[] payload, int offset, int length) throws IOException {
        out.write(length >>> 16);
        out.write(length >>> 8);
        out.write(length);
        out.write(type);
        out.write(flags);
        out.write(stream >>> 24);
        out.write(stream >>> 16);
        out.write(stream >>> 8);
        out.write(stream);
        out.write(payload, offset, length);
    }

    @Override
    public boolean closing() {
        return closing;
    }

    /** Says goodbye (GOAWAY, no error) and closes the socket. */
    @Override
    public void close() {
        try {
            if (!socket.isClosed() && !closing) {
                frame(GOAWAY, 0, 0, new byte[8], 0, 8);
                out.flush();
            }
        } catch (IOException ignored) {
            // the server may have gone first: closing is all that is left
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a loopback socket: nothing to do about it
        }
    }
}
