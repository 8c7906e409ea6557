package dev.mlserver.gateway.cli.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a CI runner gets {@code ml_server}: the git repository of its source and the commit to
 * build. The build stamps both into {@code source.properties} (the clone's {@code origin} and
 * HEAD); a generated workflow pins them, and {@code ml_server ci} options replace them.
 */
public final class MlServerSource {
    private static final String RESOURCE = "source.properties";
    private static final Pattern SCP_LIKE = Pattern.compile("^[\\w.-]+@([\\w.-]+):(?!//)(.+)$");
    private static final Pattern NETWORK = Pattern.compile("^(https?|ssh|git)://(?:[^@/]*@)?([^/:]+)(:\\d+)?(/.*)$");
    private static final Pattern SAFE = Pattern.compile("^[^\\s'\"`${}\\\\]+$");

    private final String url;
    private final String ref;
    private final boolean modified;

    private MlServerSource(String url, String ref, boolean modified) {
        this.url = url;
        this.ref = ref;
        this.modified = modified;
    }

    /** What the build of this {@code ml_server} stamped: a URL a runner can clone, if it had one, and its commit. */
    public static MlServerSource stamped() {
        Properties properties = new Properties();
        try (InputStream in = MlServerSource.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
        return fromStamp(properties.getProperty("url", ""), properties.getProperty("commit", ""),
                "true".equals(properties.getProperty("dirty")));
    }

    /** A stamp as the build wrote it; placeholders the build left unfilled are unknown values. */
    static MlServerSource fromStamp(String remote, String commit, boolean modified) {
        String ref = commit.strip().matches("[0-9a-f]{7,64}") ? commit.strip() : "";
        return new MlServerSource(cloneable(remote.strip()), ref, modified && !ref.isEmpty());
    }

    /** This source with another repository URL, as given (a mirror, a fork, a path a self-hosted runner reads). */
    public MlServerSource withUrl(String other) {
        return new MlServerSource(safe(other, "--mlserver-source"), ref, modified);
    }

    /** This source at another commit, tag or branch. */
    public MlServerSource withRef(String other) {
        return new MlServerSource(url, safe(other, "--mlserver-ref"), false);
    }

    /** The git URL a runner clones. */
    public Optional<String> url() {
        return url.isEmpty() ? Optional.empty() : Optional.of(url);
    }

    /** The commit (or tag) a runner builds. */
    public Optional<String> ref() {
        return ref.isEmpty() ? Optional.empty() : Optional.of(ref);
    }

    /** The stamped commit is not all of this ml_server: it was built from a tree with changes. */
    public boolean modified() {
        return modified;
    }

    /**
     * The URL of a clone's remote as a CI runner can fetch it: credentials dropped, SSH forms as
     * HTTPS (a runner has no SSH key); empty for a path on this machine or no remote at all.
     */
    static String cloneable(String remote) {
        Matcher scp = SCP_LIKE.matcher(remote);
        if (scp.matches()) {
            return "https://" + scp.group(1) + "/" + scp.group(2);
        }
        Matcher network = NETWORK.matcher(remote);
        if (!network.matches() || !SAFE.matcher(remote).matches()) {
            return "";
        }
        String scheme = network.group(1);
        if (scheme.equals("ssh")) {
            return "https://" + network.group(2) + network.group(4);
        }
        return scheme + "://" + network.group(2) + (network.group(3) == null ? "" : network.group(3)) + network.group(4);
    }

    private static String safe(String value, String option) {
        if (!SAFE.matcher(value).matches()) {
            throw new DeployException(option + " '" + value + "' cannot be written into a workflow: no spaces, quotes, $, braces or backslashes");
        }
        return value;
    }
}
