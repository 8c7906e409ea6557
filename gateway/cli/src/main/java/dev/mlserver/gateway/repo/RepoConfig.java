package dev.mlserver.gateway.repo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.Yaml;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A classifier repository's own settings: {@code mlserver-repo.yaml} at its root. Every key is
 * optional; a repository without the file uses the defaults.
 *
 * @param tagFormat how {@code bump} spells the tags it creates
 */
public record RepoConfig(TagFormat tagFormat) {
    public static final String FILE = "mlserver-repo.yaml";
    public static final RepoConfig DEFAULTS = new RepoConfig(TagFormat.HYPHEN);

    public RepoConfig {
        if (tagFormat == TagFormat.LEGACY) {
            throw new ConfigException("tags.format: the legacy format is read, never written");
        }
    }

    /** Reads {@code <root>/mlserver-repo.yaml}, or the defaults when there is none. */
    public static RepoConfig load(Path root) {
        Path file = root.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return DEFAULTS;
        }
        String text;
        try {
            if (Files.size(file) > Yaml.MAX_CODE_POINTS) {
                throw new ConfigException(file + ": larger than " + Yaml.MAX_CODE_POINTS + " bytes");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    static RepoConfig parse(String text, String where) {
        JsonNode tree = Yaml.parse(text, where);
        try {
            Yaml.Node root = Yaml.Node.of(tree, "");
            Yaml.Node tags = root.child("tags");
            String template = tags.string("format", TagFormat.HYPHEN.template());
            tags.rejectUnknown();
            root.rejectUnknown();
            TagFormat format = TagFormat.ofTemplate(template).orElseThrow(() -> new ConfigException(
                    "tags.format must be \"" + TagFormat.HYPHEN.template() + "\" or \"" + TagFormat.PATH.template()
                            + "\", got \"" + template + "\""));
            return new RepoConfig(format);
        } catch (ConfigException e) {
            throw new ConfigException(where + ": " + e.getMessage(), e);
        }
    }
}
