package dev.mlserver.gateway.registry;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Semantic version order for classifier versions: {@code 1.10.0} after {@code 1.9.0}, a release
 * after its pre-releases ({@code 2.0.0-rc.1} before {@code 2.0.0}). A version that is not
 * semantic sorts before every semantic one, then by its text.
 */
public final class VersionOrder {
    /** Lowest first. */
    public static final Comparator<String> ASCENDING = VersionOrder::compare;

    private static final Pattern SEMVER = Pattern.compile("v?(\\d{1,9})\\.(\\d{1,9})\\.(\\d{1,9})(?:-([0-9A-Za-z.-]+))?(?:\\+.*)?");

    private VersionOrder() {}

    static int compare(String a, String b) {
        Matcher x = SEMVER.matcher(a);
        Matcher y = SEMVER.matcher(b);
        boolean xs = x.matches();
        boolean ys = y.matches();
        if (!xs || !ys) {
            return xs == ys ? a.compareTo(b) : xs ? 1 : -1;
        }
        for (int g = 1; g <= 3; g++) {
            int c = Integer.compare(Integer.parseInt(x.group(g)), Integer.parseInt(y.group(g)));
            if (c != 0) {
                return c;
            }
        }
        return preRelease(x.group(4), y.group(4));
    }

    private static int preRelease(String a, String b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : 1) : -1;
        }
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            boolean xn = x[i].matches("\\d{1,9}");
            boolean yn = y[i].matches("\\d{1,9}");
            int c = xn && yn ? Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i]))
                    : xn != yn ? (xn ? -1 : 1) : x[i].compareTo(y[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }
}
