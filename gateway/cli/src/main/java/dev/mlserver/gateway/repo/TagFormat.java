package dev.mlserver.gateway.repo;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a classifier's release tags are spelt. {@link #HYPHEN} and {@link #PATH} are the two
 * formats {@code bump} writes; {@link #LEGACY} is only read.
 */
public enum TagFormat {
    /** {@code sentiment-v2.3.1}, the default. */
    HYPHEN("{classifier}-v{version}", Pattern.compile("([a-z0-9][a-z0-9-]{0,63})-v(\\d[0-9A-Za-z.-]*)")),
    /** {@code classifiers/sentiment/v2.3.1}. */
    PATH("classifiers/{classifier}/v{version}", Pattern.compile("classifiers/([a-z0-9][a-z0-9-]{0,63})/v(\\d[0-9A-Za-z.-]*)")),
    /** {@code sentiment/v2.3.1}, read but never written. */
    LEGACY("{classifier}/v{version}", Pattern.compile("([a-z0-9][a-z0-9-]{0,63})/v(\\d[0-9A-Za-z.-]*)"));

    private final String template;
    private final Pattern pattern;

    TagFormat(String template, Pattern pattern) {
        this.template = template;
        this.pattern = pattern;
    }

    /** The format's spelling in {@code mlserver-repo.yaml}. */
    public String template() {
        return template;
    }

    /** The tag for {@code classifier} at {@code version}. */
    public String tag(String classifier, SemVer version) {
        return template.replace("{classifier}", classifier).replace("{version}", version.toString());
    }

    /** The writable format spelt {@code template}, if any. */
    public static Optional<TagFormat> ofTemplate(String template) {
        for (TagFormat f : new TagFormat[] {HYPHEN, PATH}) {
            if (f.template.equals(template)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** Reads a tag name in any of the formats; a tag that names no classifier version is empty. */
    public static Optional<ClassifierTag> read(String tag) {
        for (TagFormat f : values()) {
            Matcher m = f.pattern.matcher(tag);
            if (m.matches()) {
                Optional<SemVer> version = SemVer.parse(m.group(2));
                if (version.isPresent()) {
                    return Optional.of(new ClassifierTag(m.group(1), version.get(), tag, f));
                }
            }
        }
        return Optional.empty();
    }

    /** A tag that names a version of a classifier. */
    public record ClassifierTag(String classifier, SemVer version, String tag, TagFormat format) {}
}
