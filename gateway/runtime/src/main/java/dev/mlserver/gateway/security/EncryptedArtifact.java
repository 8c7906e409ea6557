package dev.mlserver.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The format of an encrypted artifact, {@code artifacts/<name>.enc}: AES-256-GCM over the whole
 * artifact, in memory.
 *
 * <pre>
 * offset  size  field
 *      0     4  magic "MLSE"
 *      4     1  format version, 1
 *      5     1  nonce length, 12
 *      6    12  nonce (random per file)
 *     18     n  ciphertext followed by the 16-byte GCM tag
 * </pre>
 *
 * The 18 header bytes are the GCM additional authenticated data, so a changed header fails like
 * a changed ciphertext.
 */
public final class EncryptedArtifact {
    public static final byte[] MAGIC = "MLSE".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    public static final int NONCE_BYTES = 12;
    public static final int HEADER_BYTES = MAGIC.length + 2 + NONCE_BYTES;
    public static final int TAG_BITS = 128;
    public static final String SUFFIX = ".enc";

    private static final SecureRandom RANDOM = new SecureRandom();

    private EncryptedArtifact() {}

    /** Encrypts {@code clear} with a 32-byte key and a fresh random nonce. */
    public static byte[] encrypt(byte[] clear, byte[] key) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        byte[] header = header(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, key, nonce);
            cipher.updateAAD(header);
            byte[] sealed = cipher.doFinal(clear);
            byte[] out = Arrays.copyOf(header, header.length + sealed.length);
            System.arraycopy(sealed, 0, out, header.length, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e, e);
        }
    }

    /**
     * Decrypts with the first of {@code keys} that authenticates; empty when none does (a wrong
     * key or an altered file look the same). A file that is not in this format is an
     * {@link IllegalArgumentException} saying what is wrong with it.
     */
    public static Optional<byte[]> decrypt(byte[] sealed, List<byte[]> keys) {
        if (sealed.length < HEADER_BYTES + TAG_BITS / 8) {
            throw new IllegalArgumentException("too short to be an encrypted artifact (" + sealed.length + " bytes)");
        }
        if (!Arrays.equals(sealed, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IllegalArgumentException("not an encrypted artifact: it does not start with \"MLSE\"");
        }
        int version = sealed[MAGIC.length] & 0xff;
        if (version != VERSION) {
            throw new IllegalArgumentException("encrypted artifact format version " + version + " is not supported (only "
                    + VERSION + ")");
        }
        if ((sealed[MAGIC.length + 1] & 0xff) != NONCE_BYTES) {
            throw new IllegalArgumentException("encrypted artifact nonce length must be " + NONCE_BYTES);
        }
        byte[] nonce = Arrays.copyOfRange(sealed, MAGIC.length + 2, HEADER_BYTES);
        for (byte[] key : keys) {
            try {
                Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, nonce);
                cipher.updateAAD(sealed, 0, HEADER_BYTES);
                return Optional.of(cipher.doFinal(sealed, HEADER_BYTES, sealed.length - HEADER_BYTES));
            } catch (AEADBadTagException e) {
                // not this key (or the file was altered): try the next
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available: " + e, e);
            }
        }
        return Optional.empty();
    }

    /** A new random 32-byte key. */
    public static byte[] newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return key;
    }

    private static byte[] header(byte[] nonce) {
        byte[] header = new byte[HEADER_BYTES];
        System.arraycopy(MAGIC, 0, header, 0, MAGIC.length);
        header[MAGIC.length] = (byte) VERSION;
        header[MAGIC.length + 1] = (byte) NONCE_BYTES;
        System.arraycopy(nonce, 0, header, MAGIC.length + 2, NONCE_BYTES);
        return header;
    }

    private static Cipher cipher(int mode, byte[] key, byte[] nonce) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
        return cipher;
    }
}
