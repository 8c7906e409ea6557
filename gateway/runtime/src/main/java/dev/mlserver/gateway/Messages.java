package dev.mlserver.gateway;

/** Pieces of the one-line messages every layer writes. */
public final class Messages {
    /** How much of a caller's or a file's text a message quotes by default. */
    public static final int QUOTED = 80;

    private Messages() {}

    /** {@code s} as a message quotes it: at most {@link #QUOTED} characters, then "...". */
    public static String clip(String s) {
        return clip(s, QUOTED);
    }

    /** {@code s} cut to {@code max} characters, "..." marking the cut. */
    public static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
