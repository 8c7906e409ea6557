package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class InflationTest {
    static final byte[] BODY = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}".getBytes(StandardCharsets.UTF_8);

    @Test
    void gzipAndDeflateAsZlibOrRawAreInflated() throws Exception {
        assertThat(Inflation.inflate("gzip", gzip(BODY), 1 << 20)).isEqualTo(BODY);
        assertThat(Inflation.inflate("x-gzip", gzip(BODY), 1 << 20)).isEqualTo(BODY);
        assertThat(Inflation.inflate("deflate", deflate(BODY, false), 1 << 20)).isEqualTo(BODY);
        assertThat(Inflation.inflate("deflate", deflate(BODY, true), 1 << 20)).isEqualTo(BODY);
        // codings are undone last applied first; identity and case are nothing
        assertThat(Inflation.decode("deflate, GZIP", gzip(deflate(BODY, false)), 1 << 20)).isEqualTo(BODY);
        assertThat(Inflation.decode("identity", BODY, 1 << 20)).isSameAs(BODY);
        assertThat(Inflation.decode(" gzip , identity", gzip(BODY), 1 << 20)).isEqualTo(BODY);
    }

    @Test
    void theLimitHoldsForWhatTheBodyInflatesTo() throws Exception {
        assertThat(Inflation.inflate("gzip", gzip(BODY), BODY.length)).isEqualTo(BODY);
        assertThatThrownBy(() -> Inflation.inflate("gzip", gzip(BODY), BODY.length - 1))
                .isInstanceOf(Inflation.TooLarge.class).hasMessage("inflates to more than " + (BODY.length - 1) + " bytes");
        // 64 MiB of spaces in about 64 KB: stopped at the limit, not inflated whole
        byte[] spaces = new byte[64 << 20];
        Arrays.fill(spaces, (byte) ' ');
        byte[] bomb = gzip(spaces);
        assertThat(bomb.length).isLessThan(100_000);
        assertThatThrownBy(() -> Inflation.inflate("gzip", bomb, 1 << 20)).isInstanceOf(Inflation.TooLarge.class);
        assertThatThrownBy(() -> Inflation.inflate("deflate", deflate(spaces, false), 1 << 20)).isInstanceOf(Inflation.TooLarge.class);
        // two codings: each step is held to the limit
        assertThatThrownBy(() -> Inflation.decode("gzip, gzip", gzip(bomb), 1 << 20)).isInstanceOf(Inflation.TooLarge.class);
    }

    @Test
    void truncatedOrForeignBytesAndUnknownCodingsFail() throws Exception {
        byte[] zipped = gzip(BODY);
        assertThatThrownBy(() -> Inflation.inflate("gzip", Arrays.copyOf(zipped, zipped.length - 8), 1 << 20))
                .isInstanceOf(Inflation.Corrupt.class).hasMessageStartingWith("is not valid gzip");
        assertThatThrownBy(() -> Inflation.inflate("gzip", BODY, 1 << 20)).isInstanceOf(Inflation.Corrupt.class);
        assertThatThrownBy(() -> Inflation.inflate("gzip", new byte[0], 1 << 20)).isInstanceOf(Inflation.Corrupt.class);
        byte[] deflated = deflate(BODY, false);
        assertThatThrownBy(() -> Inflation.inflate("deflate", Arrays.copyOf(deflated, deflated.length / 2), 1 << 20))
                .isInstanceOf(Inflation.Corrupt.class).hasMessageStartingWith("is not valid deflate");
        assertThatThrownBy(() -> Inflation.inflate("br", zipped, 1 << 20)).isInstanceOf(Inflation.Unsupported.class)
                .hasMessage("content coding 'br' is not supported; send gzip, deflate or identity");
        assertThatThrownBy(() -> Inflation.codings("gzip, zstd")).isInstanceOf(Inflation.Unsupported.class);
        assertThat(Inflation.codings(null)).isEmpty();
        assertThat(Inflation.codings("identity")).isEmpty();
        assertThat(Inflation.codings("x-gzip,Deflate")).containsExactly("gzip", "deflate");
        // whether a body is compressed at all, whatever the coding
        assertThat(Inflation.encoded(null)).isFalse();
        assertThat(Inflation.encoded(" identity , IDENTITY")).isFalse();
        assertThat(Inflation.encoded("identity, gzip")).isTrue();
        assertThat(Inflation.encoded("br")).isTrue();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }

    /** zlib's format (what HTTP and gRPC call deflate), or with {@code raw} a bare deflate stream. */
    static byte[] deflate(byte[] data, boolean raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, raw);
        try (DeflaterOutputStream z = new DeflaterOutputStream(out, deflater)) {
            z.write(data);
        } finally {
            deflater.end();
        }
        return out.toByteArray();
    }
}
