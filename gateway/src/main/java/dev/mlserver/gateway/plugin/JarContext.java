package dev.mlserver.gateway.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A classifier's view of its own plugin jar: its config and its {@code artifacts/}. */
final class JarContext implements ClassifierContext {
    /** Artifacts larger than this are refused rather than read into memory. */
    static final long MAX_ARTIFACT_BYTES = 1L << 30;

    private final String name;
    private final String version;
    private final JsonNode config;
    private final Path jar;
    private final int intraOpThreads;
    private final Logger logger;

    JarContext(String name, String version, JsonNode config, Path jar, int intraOpThreads) {
        this.name = name;
        this.version = version;
        this.config = config;
        this.jar = jar;
        this.intraOpThreads = intraOpThreads;
        this.logger = LoggerFactory.getLogger("mlserver.classifier." + name);
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
            ZipEntry entry = zip.getEntry(entryName);
            if (entry == null || entry.isDirectory()) {
                throw new ClassifierException("artifact '" + artifact + "' is not in the plugin jar");
            }
            if (entry.getSize() > MAX_ARTIFACT_BYTES) {
                throw new ClassifierException("artifact '" + artifact + "' is larger than " + MAX_ARTIFACT_BYTES + " bytes");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new ClassifierException("cannot read artifact '" + artifact + "': " + e.getMessage(), e);
        }
    }

    @Override
    public boolean hasArtifact(String artifact) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(entryName(artifact));
            return entry != null && !entry.isDirectory();
        } catch (IOException e) {
            return false;
        }
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
