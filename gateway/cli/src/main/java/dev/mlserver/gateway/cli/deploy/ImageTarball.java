package dev.mlserver.gateway.cli.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A one-layer image as a {@code docker save} tarball ({@code manifest.json}, the config, the
 * layer), the format Jib reads as a {@code tar://} base and {@code docker load} / {@code podman load}
 * read as an image. Entries are sorted, owned by root and dated {@code created}: the same root
 * file system gives the same layer digest.
 */
public final class ImageTarball {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LAYER = "layer.tar";
    private static final String CONFIG = "config.json";
    private static final int MAX_MANIFEST = 1 << 20;

    /**
     * What an image tarball says of itself.
     *
     * @param tag the name {@code docker load} gives it, when it has one
     */
    public record Contents(Optional<String> tag, int layers) {}

    private ImageTarball() {}

    /** Writes {@code rootfs} as the one layer of an image named {@code reference}. */
    static void write(Path rootfs, Path output, String reference, Instant created, List<String> env, String user,
            String createdBy) {
        try {
            Path parent = output.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path layer = Files.createTempFile(parent, ".layer", ".tar");
            try {
                String diffId = writeLayer(rootfs, layer, created);
                ObjectNode config = JSON.createObjectNode();
                config.put("architecture", "amd64").put("os", "linux").put("created", created.toString());
                ObjectNode runConfig = config.putObject("config");
                env.forEach(runConfig.putArray("Env")::add);
                runConfig.put("User", user).put("WorkingDir", "/");
                ObjectNode rootfsNode = config.putObject("rootfs").put("type", "layers");
                rootfsNode.putArray("diff_ids").add(diffId);
                config.putArray("history").addObject().put("created", created.toString()).put("created_by", createdBy);
                byte[] configBytes = JSON.writeValueAsBytes(config);

                ArrayNode manifest = JSON.createArrayNode();
                ObjectNode image = manifest.addObject().put("Config", CONFIG);
                image.putArray("RepoTags").add(reference.contains(":") ? reference : reference + ":latest");
                image.putArray("Layers").add(LAYER);

                Path partial = Files.createTempFile(parent, ".image", ".tar.part");
                try (Tar tar = new Tar(new BufferedOutputStream(Files.newOutputStream(partial)), created.getEpochSecond());
                        InputStream layerBytes = Files.newInputStream(layer)) {
                    tar.file(CONFIG, configBytes);
                    tar.file(LAYER, 0644, Files.size(layer), layerBytes);
                    tar.file("manifest.json", JSON.writeValueAsBytes(manifest));
                }
                Files.move(partial, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(layer);
            }
        } catch (IOException e) {
            throw new DeployException("cannot write the image tarball " + output + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads what {@code tarball} holds; a message naming the way out when it is not an image
     * that {@code docker save} or {@code ml_server base-image} would write.
     */
    public static Contents read(Path tarball) {
        String notAnImage = tarball + " is not an image tarball (docker save format with manifest.json):"
                + " make one with `ml_server base-image --output " + tarball.getFileName() + "`";
        if (!Files.isRegularFile(tarball)) {
            throw new DeployException("no base image tarball " + tarball + ": make one with `ml_server base-image --output "
                    + tarball + "`");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(tarball))) {
            byte[] text = Tar.read(in, "manifest.json", MAX_MANIFEST).orElseThrow(() -> new DeployException(notAnImage));
            JsonNode first = JSON.readTree(text).path(0);
            if (!first.path("Config").isTextual() || !first.path("Layers").isArray() || first.path("Layers").isEmpty()) {
                throw new DeployException(notAnImage);
            }
            return new Contents(Optional.ofNullable(first.path("RepoTags").path(0).textValue()), first.path("Layers").size());
        } catch (IOException e) {
            throw new DeployException(notAnImage, e);
        }
    }

    private static String writeLayer(Path rootfs, Path layer, Instant created) throws IOException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(rootfs)) {
            paths = new ArrayList<>(walk.filter(p -> !p.equals(rootfs)).sorted().toList());
        }
        try (Tar tar = new Tar(new BufferedOutputStream(new DigestOutputStream(Files.newOutputStream(layer), sha256)),
                created.getEpochSecond())) {
            for (Path p : paths) {
                String name = rootfs.relativize(p).toString().replace('\\', '/');
                if (Files.isSymbolicLink(p)) {
                    tar.symlink(name, Files.readSymbolicLink(p).toString());
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    tar.directory(name, name.equals("tmp") ? 01777 : 0755);
                } else {
                    try (InputStream in = Files.newInputStream(p)) {
                        tar.file(name, executable(p) ? 0755 : 0644, Files.size(p), in);
                    }
                }
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha256.digest());
    }

    private static boolean executable(Path p) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        return perms.contains(PosixFilePermission.OWNER_EXECUTE);
    }
}
