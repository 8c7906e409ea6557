package dev.mlserver.gateway.repo;

import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic version, {@code MAJOR.MINOR.PATCH} with an optional pre-release. Build metadata is
 * not allowed: a classifier version names one build.
 */
public record SemVer(int major, int minor, int patch, String preRelease) implements Comparable<SemVer> {
    private static final Pattern FORMAT = Pattern.compile(
            "(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?");

    private static final Comparator<SemVer> ORDER = Comparator.comparingInt(SemVer::major)
            .thenComparingInt(SemVer::minor)
            .thenComparingInt(SemVer::patch)
            .thenComparing(SemVer::preRelease, SemVer::comparePreRelease);

    /** Which number {@link #bump} raises. */
    public enum Part { MAJOR, MINOR, PATCH }

    public SemVer {
        if (major < 0 || minor < 0 || patch < 0) {
            throw new IllegalArgumentException("version numbers cannot be negative");
        }
        preRelease = preRelease == null ? "" : preRelease;
    }

    /** Parses {@code 1.2.3} or {@code 1.2.3-rc.1}. */
    public static Optional<SemVer> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new SemVer(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4)));
    }

    /**
     * The next version: {@code 1.4.2} gives {@code 2.0.0}, {@code 1.5.0} or {@code 1.4.3}. A
     * pre-release is released first: {@code 1.5.0-rc.1} bumped by minor is {@code 1.5.0}.
     */
    public SemVer bump(Part part) {
        boolean pre = !preRelease.isEmpty();
        return switch (part) {
            case MAJOR -> pre && minor == 0 && patch == 0 ? new SemVer(major, 0, 0, "") : new SemVer(major + 1, 0, 0, "");
            case MINOR -> pre && patch == 0 ? new SemVer(major, minor, 0, "") : new SemVer(major, minor + 1, 0, "");
            case PATCH -> pre ? new SemVer(major, minor, patch, "") : new SemVer(major, minor, patch + 1, "");
        };
    }

    @Override
    public int compareTo(SemVer other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch + (preRelease.isEmpty() ? "" : "-" + preRelease);
    }

    /** A release sorts after its pre-releases; pre-release identifiers compare numerically when both are numbers. */
    private static int comparePreRelease(String a, String b) {
        if (a.equals(b)) {
            return 0;
        }
        if (a.isEmpty()) {
            return 1;
        }
        if (b.isEmpty()) {
            return -1;
        }
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            boolean xNum = x[i].matches("\\d+");
            boolean yNum = y[i].matches("\\d+");
            int c;
            if (xNum && yNum) {
                c = new java.math.BigInteger(x[i]).compareTo(new java.math.BigInteger(y[i]));
            } else if (xNum != yNum) {
                c = xNum ? -1 : 1;
            } else {
                c = x[i].compareTo(y[i]);
            }
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }
}
