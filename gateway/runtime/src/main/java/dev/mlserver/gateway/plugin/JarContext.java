package dev.mlserver.gateway.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import dev.mlserver.gateway.config.SecurityConfig;
import dev.mlserver.gateway.security.EncryptedArtifact;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A classifier's view of its own plugin jar: its config and its {@code artifacts/}. An artifact
 * stored as {@code artifacts/<name>.enc} is decrypted in memory with the classifier's key from
 * {@code security.artifact_keys}; the clear bytes are never written anywhere.
 */
final class JarContext implements ClassifierContext {
    /** Artifacts larger than this are refused rather than read into memory. */
    static final long MAX_ARTIFACT_BYTES = 1L << 30;

    private final String name;
    private final String version;
    private final JsonNode config;
    private final Path jar;
    private final int intraOpThreads;
    private final Logger logger;
    private final SecurityConfig.ArtifactKey key;

    JarContext(String name, String version, JsonNode config, Path jar, int intraOpThreads, SecurityConfig.ArtifactKey key) {
        this.name = name;
        this.version = version;
        this.config = config;
        this.jar = jar;
        this.intraOpThreads = intraOpThreads;
        this.logger = LoggerFactory.getLogger("mlserver.classifier." + name);
        this.key = key;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public JsonNode config() {
        return config;
    }

    @Override
    public byte[] artifact(String artifact) {
        String entryName = entryName(artifact);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry clear = file(zip, entryName);
            ZipEntry sealed = file(zip, entryName + EncryptedArtifact.SUFFIX);
            if (clear != null && sealed != null) {
                throw new ClassifierException("artifact '" + artifact + "' is in the plugin jar both in clear and as "
                        + entryName + EncryptedArtifact.SUFFIX + "; ship only one");
            }
            ZipEntry entry = clear != null ? clear : sealed;
            if (entry == null) {
                throw new ClassifierException("artifact '" + artifact + "' is not in the plugin jar");
            }
            if (entry.getSize() > MAX_ARTIFACT_BYTES) {
                throw new ClassifierException("artifact '" + artifact + "' is larger than " + MAX_ARTIFACT_BYTES + " bytes");
            }
            byte[] bytes;
            try (InputStream in = zip.getInputStream(entry)) {
                bytes = in.readAllBytes();
            }
            return clear != null ? bytes : decrypt(artifact, entry.getName(), bytes);
        } catch (IOException e) {
            throw new ClassifierException("cannot read artifact '" + artifact + "': " + e.getMessage(), e);
        }
    }

    @Override
    public boolean hasArtifact(String artifact) {
        String entryName = entryName(artifact);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return file(zip, entryName) != null || file(zip, entryName + EncryptedArtifact.SUFFIX) != null;
        } catch (IOException e) {
            return false;
        }
    }

    private byte[] decrypt(String artifact, String entryName, byte[] sealed) {
        if (key == null) {
            throw new ClassifierException("artifact '" + artifact + "' is encrypted (" + entryName
                    + ") but security.artifact_keys has no key for '" + name + "' or '*'");
        }
        try {
            return EncryptedArtifact.decrypt(sealed, key.keys()).orElseThrow(() -> new ClassifierException(
                    "artifact '" + artifact + "' cannot be decrypted with the key(s) from " + key.source()
                            + ": wrong key, or " + entryName + " was altered"));
        } catch (IllegalArgumentException e) {
            throw new ClassifierException(entryName + ": " + e.getMessage());
        }
    }

    private static ZipEntry file(ZipFile zip, String entryName) {
        ZipEntry entry = zip.getEntry(entryName);
        return entry == null || entry.isDirectory() ? null : entry;
    }

    @Override
    public int intraOpThreads() {
        return intraOpThreads;
    }

    @Override
    public Logger logger() {
        return logger;
    }

    private static String entryName(String artifact) {
        if (artifact == null || artifact.isBlank() || artifact.startsWith("/") || artifact.contains("\\")
                || artifact.equals("..") || artifact.startsWith("../") || artifact.contains("/../") || artifact.endsWith("/..")) {
            throw new ClassifierException("invalid artifact name '" + artifact + "'");
        }
        return "artifacts/" + artifact;
    }
}
