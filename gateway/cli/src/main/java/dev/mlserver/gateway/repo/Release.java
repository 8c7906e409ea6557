package dev.mlserver.gateway.repo;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A classifier version as a git tag says it: {@code sentiment-v2.3.1},
 * {@code classifiers/sentiment/v2.3.1} or the legacy {@code sentiment/v2.3.1}.
 *
 * @param commit the abbreviated id of the tagged commit
 */
public record Release(String classifier, SemVer version, String tag, String commit, TagFormat format) {
    /** By classifier name, then newest version first. */
    public static final Comparator<Release> ORDER = Comparator.comparing(Release::classifier)
            .thenComparing(Release::version, Comparator.reverseOrder())
            .thenComparing(Release::tag);

    /** Every tag of the repository that names a classifier version, in {@link #ORDER}. */
    public static List<Release> all(GitRepo git) {
        return git.tags().stream()
                .flatMap(t -> TagFormat.read(t.name())
                        .map(ct -> new Release(ct.classifier(), ct.version(), t.name(), t.shortCommit(), ct.format()))
                        .stream())
                .sorted(ORDER)
                .toList();
    }

    /** The releases of one classifier, newest first. */
    public static List<Release> of(List<Release> releases, String classifier) {
        return releases.stream().filter(r -> r.classifier().equals(classifier)).toList();
    }

    /** The newest release of {@code classifier}. */
    public static Optional<Release> latest(List<Release> releases, String classifier) {
        return of(releases, classifier).stream().findFirst();
    }

    /** The release of {@code classifier} at exactly {@code version}, in any format. */
    public static Optional<Release> at(List<Release> releases, String classifier, String version) {
        return of(releases, classifier).stream().filter(r -> r.version().toString().equals(version)).findFirst();
    }
}
