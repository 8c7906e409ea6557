package dev.mlserver.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Reads images back with Debian's {@code skopeo}: what a registry or a tarball really holds. */
public final class Skopeo {
    public static final String BINARY = "/usr/bin/skopeo";

    private Skopeo() {}

    /** {@code skopeo inspect [--config|--raw] IMAGE} as JSON; IMAGE like {@code docker://host/name:tag}. */
    public static JsonNode inspect(String image, String... flags) {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is missing: .ci/run installs the skopeo package");
        }
        List<String> command = new ArrayList<>(List.of(BINARY, "inspect", "--tls-verify=false"));
        command.addAll(List.of(flags));
        command.add(image);
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
            byte[] out = process.getInputStream().readAllBytes();
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + err);
            }
            return new ObjectMapper().readTree(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
