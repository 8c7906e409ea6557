package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentRequestsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RecentRequests recent = new RecentRequests(now::get);

    @Test
    void percentilesAreWithinTheBucketResolution() {
        for (int i = 1; i <= 1000; i++) {
            recent.record("iris", 200, i * 10_000L); // 0.01 ms .. 10 ms, uniform
        }
        RecentRequests.Summary s = recent.summary("iris");
        assertThat(s.requests()).isEqualTo(1000);
        assertThat(s.p50Ms()).isCloseTo(5.0, within(5.0 * 0.09));
        assertThat(s.p99Ms()).isCloseTo(9.9, within(9.9 * 0.09));
        assertThat(s.ratePerSecond()).isCloseTo(1000 / 60.0, within(1e-9));
    }

    @Test
    void requestsOlderThanAMinuteDropOut() {
        recent.record("iris", 200, 1_000_000);
        now.addAndGet(30_000);
        recent.record("iris", 200, 2_000_000);
        assertThat(recent.summary("iris").requests()).isEqualTo(2);
        now.addAndGet(31_000);
        assertThat(recent.summary("iris").requests()).isEqualTo(1);
        now.addAndGet(60_000);
        assertThat(recent.summary("iris")).isEqualTo(RecentRequests.Summary.EMPTY);
    }

    @Test
    void errorsAreCountedByKindAndClassifiersApart() {
        recent.record("iris", 200, 1_000_000);
        recent.record("iris", 400, 1_000_000);
        recent.record("iris", 503, 1_000_000);
        recent.record("spam", 504, 1_000_000);
        RecentRequests.Summary iris = recent.summary("iris");
        assertThat(iris.requests()).isEqualTo(3);
        assertThat(iris.clientErrors()).isEqualTo(1);
        assertThat(iris.serverErrors()).isEqualTo(1);
        assertThat(recent.summary("spam").serverErrors()).isEqualTo(1);
        assertThat(recent.summary("other").requests()).isZero();
        assertThat(recent.summary("other").p50Ms()).isNaN();
    }

    @Test
    void aSlotReusedAfterAMinuteStartsFromZero() {
        recent.record("iris", 200, 100_000_000); // 100 ms
        now.addAndGet(60_000); // the same slot, one minute later
        recent.record("iris", 200, 1_000_000); // 1 ms
        RecentRequests.Summary s = recent.summary("iris");
        assertThat(s.requests()).isEqualTo(1);
        assertThat(s.p99Ms()).isCloseTo(1.0, within(0.09));
    }
}
