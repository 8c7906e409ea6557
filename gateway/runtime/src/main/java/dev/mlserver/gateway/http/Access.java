package dev.mlserver.gateway.http;

/**
 * Who may use a route when bearer tokens are on ({@code security.tokens} is not empty). With
 * tokens off every route is open. Nothing a caller without a token may reach names a
 * classifier: the inventory (which classifiers exist, their versions, builds and failures) is
 * only ever shown to a token, and only the part that token may call.
 */
public enum Access {
    /** Anyone: the health probes, and the console and docs page files, which hold no data. */
    OPEN,
    /** Anyone while {@code security.open_metrics} is true; otherwise a token with {@code metrics} or {@code admin}. */
    METRICS,
    /**
     * Any valid token. What the route lists is cut to the classifiers that token may call (all of
     * them for {@code "*"} or {@code admin}).
     */
    TOKEN,
    /** A token granted the classifier the path names ({@code :classifier}), or {@code "*"}. */
    CLASSIFIER,
    /** A token with {@code admin: true}. */
    ADMIN
}
