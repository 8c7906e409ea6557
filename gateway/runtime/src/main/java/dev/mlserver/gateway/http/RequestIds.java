package dev.mlserver.gateway.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/** The request id: the client's {@code X-Request-Id} when it is sane, else a new one. */
final class RequestIds {
    static final String HEADER = "X-Request-Id";
    private static final CharSequence HEADER_NAME = HttpHeaders.createOptimized(HEADER);
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    // Random version-4 UUIDs: a counter encrypted with AES under a key drawn once per process. The
    // cipher is a permutation, so ids never repeat within a process, and without the key nothing in
    // them (neither the counter nor the traffic it counts) can be read back. Each thread encrypts
    // BATCH counter values in one cipher call and hands them out one by one: no SecureRandom call
    // (a lock and a system call) on the event loop, and the cipher's per-call cost is shared.
    private static final SecretKeySpec AES_KEY = new SecretKeySpec(new SecureRandom().generateSeed(16), "AES");
    private static final AtomicLong COUNTER = new AtomicLong();
    private static final int BATCH = 256;
    private static final ThreadLocal<Batch> BATCHES = ThreadLocal.withInitial(Batch::new);

    private RequestIds() {}

    /** Chooses the request's id and sets it on the response; returns it. */
    static String assign(RoutingContext ctx) {
        String given = ctx.request().getHeader(HEADER_NAME);
        String id = given != null && SANE.matcher(given).matches() ? given : newId();
        ctx.response().putHeader(HEADER_NAME, id);
        return id;
    }

    /** A fresh random id, UUID-shaped. */
    static String newId() {
        return BATCHES.get().next();
    }

    /** One thread's encrypted counter values not handed out yet. */
    private static final class Batch {
        private final Cipher cipher = cipher();
        private final ByteBuffer blocks = ByteBuffer.allocate(16 * BATCH);
        private int next = BATCH;

        String next() {
            if (next == BATCH) {
                refill();
            }
            int at = 16 * next++;
            long high = (blocks.getLong(at) & ~0xF000L) | 0x4000L;
            long low = (blocks.getLong(at + 8) & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
            return new UUID(high, low).toString();
        }

        private void refill() {
            long first = COUNTER.getAndAdd(BATCH);
            for (int i = 0; i < BATCH; i++) {
                blocks.putLong(16 * i, first + i).putLong(16 * i + 8, 0L);
            }
            try {
                cipher.doFinal(blocks.array(), 0, blocks.capacity(), blocks.array());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES is part of every JDK", e);
            }
            next = 0;
        }
    }

    private static Cipher cipher() {
        try {
            Cipher cipher = Cipher.getInstance("AES/ECB/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, AES_KEY);
            return cipher;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES is part of every JDK", e);
        }
    }

    static String get(RoutingContext ctx) {
        Exchange exchange = Exchange.of(ctx);
        return exchange == null ? "-" : exchange.requestId;
    }
}
