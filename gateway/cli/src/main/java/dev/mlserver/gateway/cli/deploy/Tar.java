package dev.mlserver.gateway.cli.deploy;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The little of the tar format image tarballs need (POSIX ustar: regular files, directories,
 * symbolic links, owned by root, one fixed time), written and read without a library.
 */
final class Tar implements Closeable {
    private static final int BLOCK = 512;
    private final OutputStream out;
    private final long mtimeSeconds;

    Tar(OutputStream out, long mtimeSeconds) {
        this.out = out;
        this.mtimeSeconds = mtimeSeconds;
    }

    void directory(String name, int mode) throws IOException {
        header(name.endsWith("/") ? name : name + "/", 0, mode, '5', "");
    }

    void symlink(String name, String target) throws IOException {
        header(name, 0, 0777, '2', target);
    }

    /** A regular file of {@code size} bytes copied from {@code content}. */
    void file(String name, int mode, long size, InputStream content) throws IOException {
        header(name, size, mode, '0', "");
        long copied = content.transferTo(out);
        if (copied != size) {
            throw new IOException(name + " changed while it was written (" + copied + " of " + size + " bytes)");
        }
        pad(size);
    }

    void file(String name, byte[] content) throws IOException {
        file(name, 0644, content.length, new ByteArrayInputStream(content));
    }

    @Override
    public void close() throws IOException {
        out.write(new byte[BLOCK * 2]);
        out.close();
    }

    private void header(String name, long size, int mode, char type, String link) throws IOException {
        byte[] h = new byte[BLOCK];
        byte[] full = name.getBytes(StandardCharsets.UTF_8);
        if (full.length <= 100) {
            put(h, 0, 100, full);
        } else {
            int cut = name.lastIndexOf('/', Math.min(name.length() - 1, 155));
            byte[] prefix = cut > 0 ? name.substring(0, cut).getBytes(StandardCharsets.UTF_8) : new byte[0];
            byte[] rest = cut > 0 ? name.substring(cut + 1).getBytes(StandardCharsets.UTF_8) : full;
            if (cut <= 0 || prefix.length > 155 || rest.length > 100) {
                throw new IOException("a path too long for a tar header: " + name);
            }
            put(h, 0, 100, rest);
            put(h, 345, 155, prefix);
        }
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtimeSeconds);
        h[156] = (byte) type;
        put(h, 157, 100, link.getBytes(StandardCharsets.UTF_8));
        put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(h, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(h, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        octal(h, 148, 7, sum);
        out.write(h);
    }

    private void pad(long size) throws IOException {
        int rest = (int) (size % BLOCK);
        if (rest != 0) {
            out.write(new byte[BLOCK - rest]);
        }
    }

    private static void put(byte[] h, int at, int length, byte[] value) {
        System.arraycopy(value, 0, h, at, Math.min(length, value.length));
    }

    private static void octal(byte[] h, int at, int length, long value) {
        String digits = Long.toOctalString(value);
        String padded = "0".repeat(Math.max(0, length - 1 - digits.length())) + digits;
        put(h, at, length - 1, padded.getBytes(StandardCharsets.US_ASCII));
    }

    /** The content of the regular file {@code wanted} in the tar {@code in}, when it holds one (at most {@code max} bytes). */
    static Optional<byte[]> read(InputStream in, String wanted, int max) throws IOException {
        byte[] h = new byte[BLOCK];
        while (true) {
            if (in.readNBytes(h, 0, BLOCK) < BLOCK) {
                return Optional.empty();
            }
            if (h[0] == 0) {
                return Optional.empty();
            }
            String name = string(h, 0, 100);
            String prefix = "ustar".equals(string(h, 257, 5)) ? string(h, 345, 155) : "";
            String path = prefix.isEmpty() ? name : prefix + "/" + name;
            long size = parseOctal(h, 124, 12);
            char type = (char) h[156];
            long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
            if ((type == '0' || type == 0) && (path.equals(wanted) || path.equals("./" + wanted))) {
                if (size > max) {
                    throw new IOException(wanted + " is larger than " + max + " bytes");
                }
                byte[] content = in.readNBytes((int) size);
                return Optional.of(content);
            }
            skip(in, padded);
        }
    }

    private static void skip(InputStream in, long bytes) throws IOException {
        long left = bytes;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("a truncated tar");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static String string(byte[] h, int at, int length) {
        int end = at;
        while (end < at + length && h[end] != 0) {
            end++;
        }
        return new String(h, at, end - at, StandardCharsets.UTF_8);
    }

    private static long parseOctal(byte[] h, int at, int length) throws IOException {
        String s = string(h, at, length).trim();
        if (s.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new IOException("not a tar header");
        }
    }
}
