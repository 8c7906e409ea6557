package dev.mlserver.gateway.testing;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A tiny local base image, made with Jib from scratch into a tarball, so that tests build images
 * on a base without pulling anything from the internet.
 */
public final class BaseImages {
    private BaseImages() {}

    /** Writes {@code dir/base.tar}, an image with one file, {@code /etc/base-release}; returns {@code tar://...}. */
    public static String tinyBase(Path dir) {
        try {
            Path release = dir.resolve("base-release");
            Files.writeString(release, "mlserver test base\n");
            Path tar = dir.resolve("base.tar");
            Jib.fromScratch()
                    .addFileEntriesLayer(FileEntriesLayer.builder().setName("base")
                            .addEntry(release, AbsoluteUnixPath.get("/etc/base-release")).build())
                    .setEnvironment(Map.of("PATH", "/opt/java/openjdk/bin:/usr/bin:/bin"))
                    .containerize(Containerizer.to(TarImage.at(tar).named("mlserver-test-base:1"))
                            .setBaseImageLayersCache(dir.resolve("cache-base"))
                            .setApplicationLayersCache(dir.resolve("cache-app")));
            return "tar://" + tar.toAbsolutePath();
        } catch (Exception e) {
            throw new IllegalStateException("cannot build the test base image: " + e.getMessage(), e);
        }
    }
}
