package dev.mlserver.gateway.cli.deploy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code ml_server build} made, kept in {@code target/mlserver-image.json} so that {@code push}
 * finds it.
 *
 * @param digest the image manifest's digest ({@code sha256:...})
 * @param imageId the image config's digest
 * @param tarball the tarball written, or null when the image went straight to a registry
 * @param pushed the registry reference it was last pushed to, or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BuildRecord(
        ImageSpec image,
        String digest,
        @JsonProperty("image_id") String imageId,
        String tarball,
        String pushed) {

    public static final String FILE = "mlserver-image.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The default place: {@code <repository root>/target/mlserver-image.json}. */
    public static Path defaultPath(Path root) {
        return root.resolve("target").resolve(FILE);
    }

    public BuildRecord withPushed(String reference) {
        return new BuildRecord(image, digest, imageId, tarball, reference);
    }

    public void write(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new DeployException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static BuildRecord read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DeployException("no build record at " + file + ": run `ml_server build` first");
        }
        try {
            return JSON.readValue(file.toFile(), BuildRecord.class);
        } catch (IOException e) {
            throw new DeployException(file + " is not a build record: " + e.getMessage(), e);
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
