package dev.mlserver.gateway.metrics;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Renders the metrics page off the event loops, one rendering at a time, shared by every request
 * that waits for it.
 *
 * <p>A rendering of {@code /metrics} takes a few milliseconds (more with more classifiers): on an
 * event loop, sixteen connections asking for it without pause left predictions under 2 % of their
 * rate ({@code bench/scrape-flood.sh}). Here a request joins the next rendering to start, never one already
 * under way, so what it reads was rendered after it arrived; all the requests that arrive during a
 * rendering share the one after it. Between two renderings the thread rests as long as the first
 * took (at most a second), so a flood of scrapes holds at most half of one core. The page is
 * encoded once per rendering, not once per request.
 *
 * @param <T> the rendered page
 */
public final class SharedScrape<T> {
    private static final long MOST_REST_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<T> render;
    private final ThreadPoolExecutor thread;
    private final AtomicLong renderings = new AtomicLong();
    /** The requests waiting for the next rendering; null when none waits. */
    private CompletableFuture<T> next;
    private boolean rendering;

    public SharedScrape(Supplier<T> render) {
        this.render = render;
        // one thread, made when a scrape comes and ended after a minute without one
        this.thread = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "mlserver-metrics");
            t.setDaemon(true);
            return t;
        });
        thread.allowCoreThreadTimeOut(true);
    }

    /** The page, rendered after this call, by the metrics thread. */
    public synchronized CompletableFuture<T> next() {
        CompletableFuture<T> page = next;
        if (page == null) {
            page = next = new CompletableFuture<>();
            if (!rendering) {
                start();
            }
        }
        return page;
    }

    /** How many renderings have run: fewer than requests when requests came together. */
    public long renderings() {
        return renderings.get();
    }

    /** Under the lock: the waiting requests' rendering starts. */
    private void start() {
        CompletableFuture<T> these = next;
        next = null;
        rendering = true;
        thread.execute(() -> {
            long began = System.nanoTime();
            T page = null;
            Throwable failure = null;
            try {
                page = render.get();
            } catch (Throwable t) {
                failure = t;
            }
            // counted before anyone hears of it: whoever reads a page sees its rendering counted
            renderings.incrementAndGet();
            if (failure == null) {
                these.complete(page);
            } else {
                these.completeExceptionally(failure);
            }
            rest(Math.min(System.nanoTime() - began, MOST_REST_NANOS));
            synchronized (this) {
                rendering = false;
                if (next != null) {
                    start();
                }
            }
        });
    }

    private static void rest(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
