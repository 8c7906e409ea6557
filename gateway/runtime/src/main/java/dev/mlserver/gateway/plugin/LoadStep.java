package dev.mlserver.gateway.plugin;

import java.util.function.Consumer;

/**
 * The step a plugin load is in on this thread ({@code "open()"}, say), told to whoever tracks
 * it: a load with a deadline names the step that did not return. Untracked, a no-op.
 */
public final class LoadStep {
    private static final ThreadLocal<Consumer<String>> TRACKER = new ThreadLocal<>();

    private LoadStep() {}

    /** Tells this thread's steps to {@code tracker}; null stops telling. */
    public static void track(Consumer<String> tracker) {
        if (tracker == null) {
            TRACKER.remove();
        } else {
            TRACKER.set(tracker);
        }
    }

    /** The load on this thread has reached {@code name}. */
    static void enter(String name) {
        Consumer<String> tracker = TRACKER.get();
        if (tracker != null) {
            tracker.accept(name);
        }
    }
}
