package dev.mlserver.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedScrapeTest {
    /** A rendering that returns its own number and holds until let go. */
    private static final class Pages {
        final AtomicInteger started = new AtomicInteger();
        final CountDownLatch firstBegan = new CountDownLatch(1);
        final CountDownLatch letGo = new CountDownLatch(1);
        final List<String> threads = new ArrayList<>();

        Integer render() {
            int n = started.incrementAndGet();
            synchronized (threads) {
                threads.add(Thread.currentThread().getName());
            }
            firstBegan.countDown();
            try {
                letGo.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return n;
        }
    }

    @Test
    void requestsDuringARenderingShareTheNextOneWhichStartsAfterThemAndRunsOnTheMetricsThread() throws Exception {
        Pages pages = new Pages();
        SharedScrape<Integer> scrape = new SharedScrape<>(pages::render);

        CompletableFuture<Integer> first = scrape.next();
        assertThat(pages.firstBegan.await(30, TimeUnit.SECONDS)).isTrue();
        // fifty requests while the first rendering runs: none may take it, since it began before them
        List<CompletableFuture<Integer>> later = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            later.add(scrape.next());
        }
        assertThat(first).isNotDone();
        assertThat(later).noneMatch(CompletableFuture::isDone);
        pages.letGo.countDown();

        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        for (CompletableFuture<Integer> page : later) {
            assertThat(page.get(30, TimeUnit.SECONDS)).isEqualTo(2);
        }
        assertThat(pages.started).hasValue(2);
        assertThat(scrape.renderings()).isEqualTo(2);
        assertThat(pages.threads).containsOnly("mlserver-metrics");
    }

    @Test
    void aRequestAfterTheLastRenderingGetsANewOne() throws Exception {
        Pages pages = new Pages();
        pages.letGo.countDown();
        SharedScrape<Integer> scrape = new SharedScrape<>(pages::render);
        for (int i = 1; i <= 3; i++) {
            assertThat(scrape.next().get(30, TimeUnit.SECONDS)).isEqualTo(i);
        }
    }

    @Test
    void aFailedRenderingFailsItsRequestsOnlyAndTheNextOneRendersAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        SharedScrape<String> scrape = new SharedScrape<>(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("meter broke");
            }
            return "page " + calls.get();
        });
        assertThatThrownBy(() -> scrape.next().get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasRootCauseMessage("meter broke");
        assertThat(scrape.next().get(30, TimeUnit.SECONDS)).isEqualTo("page 2");
    }

    @Test
    void manyThreadsAskingAtOnceGetFewerRenderingsThanRequestsAndEveryOneAnAnswer() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        SharedScrape<Integer> scrape = new SharedScrape<>(calls::incrementAndGet);
        int threads = 8;
        int each = 200;
        List<CompletableFuture<Integer>> pages = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> askers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread asker = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    pages.add(scrape.next());
                }
            });
            asker.start();
            askers.add(asker);
        }
        go.countDown();
        for (Thread asker : askers) {
            asker.join(30_000);
        }
        for (CompletableFuture<Integer> page : pages) {
            assertThat(page.get(30, TimeUnit.SECONDS)).isPositive();
        }
        assertThat(pages).hasSize(threads * each);
        // the askers never wait for their pages, so all but the first join a rendering still to come
        assertThat(scrape.renderings()).isEqualTo(calls.get()).isLessThan(threads * each);
    }
}
