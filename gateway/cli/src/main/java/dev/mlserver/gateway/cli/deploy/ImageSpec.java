package dev.mlserver.gateway.cli.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything an image is made of, so that {@code push} can make the very same image again: the
 * base, the files and where they go, labels, user, port and entrypoint. Layers are in order;
 * a file's sha256 proves at push time that it is still what was built.
 *
 * @param name the image name without registry, e.g. {@code mlserver-examples-iris}
 * @param tag the version tag, never {@code latest}
 * @param created ISO-8601 instant, also the {@code org.opencontainers.image.created} label
 */
public record ImageSpec(
        String name,
        String tag,
        @JsonProperty("base_image") String baseImage,
        String created,
        List<ImageFile> files,
        Map<String, String> labels,
        List<String> entrypoint,
        String user,
        int port,
        @JsonProperty("working_dir") String workingDir,
        List<Classifier> classifiers) {

    /** Image repository names: lowercase path components separated by {@code /}. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
    /** Image tags as registries accept them. */
    public static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

    public ImageSpec {
        Objects.requireNonNull(baseImage, "base_image");
        files = List.copyOf(files);
        labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        entrypoint = List.copyOf(entrypoint);
        classifiers = List.copyOf(classifiers);
        checkName(name);
        checkTag(tag);
    }

    public static void checkName(String name) {
        if (name == null || name.length() > 255 || !NAME.matcher(name).matches()) {
            throw new DeployException("'" + name + "' is not an image name (lowercase letters, digits, '.', '_', '-', '/')");
        }
    }

    public static void checkTag(String tag) {
        if (tag == null || !TAG.matcher(tag).matches()) {
            throw new DeployException("'" + tag + "' is not an image tag (letters, digits, '_', '.', '-'; at most 128)");
        }
        if (tag.equals("latest")) {
            throw new DeployException("the tag 'latest' is refused: images are tagged with their version");
        }
    }

    /** {@code name:tag}. */
    public String reference() {
        return name + ":" + tag;
    }

    /**
     * One file in the image.
     *
     * @param layer the layer it goes into; files of one layer are adjacent
     */
    public record ImageFile(String layer, String source, String target, String sha256) {}

    /** One classifier in the image, as its plugin jar's manifest says. */
    public record Classifier(
            String name,
            String version,
            @JsonProperty("git_tag") String gitTag,
            @JsonProperty("git_commit") String gitCommit) {}
}
