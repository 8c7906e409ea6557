package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RequestIdsTest {
    @Test
    void idsFromManyThreadsAreVersionFourUuidsThatNeverRepeat() throws Exception {
        Set<String> seen = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            // several batches per thread, so that batch boundaries and threads sharing the counter are crossed
            var tasks = IntStream.range(0, 4).mapToObj(t -> pool.submit(() -> {
                for (int i = 0; i < 2_000; i++) {
                    assertThat(seen.add(RequestIds.newId())).isTrue();
                }
            })).toList();
            for (Future<?> task : tasks) {
                task.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(seen).hasSize(8_000);
        for (String id : seen) {
            UUID uuid = UUID.fromString(id);
            assertThat(uuid.version()).isEqualTo(4);
            assertThat(uuid.variant()).isEqualTo(2);
            assertThat(uuid.toString()).isEqualTo(id);
        }
        // consecutive ids of one thread share no visible counter: their low halves differ in many bits
        UUID a = UUID.fromString(RequestIds.newId());
        UUID b = UUID.fromString(RequestIds.newId());
        assertThat(Long.bitCount(a.getLeastSignificantBits() ^ b.getLeastSignificantBits())).isGreaterThan(8);
    }
}
