package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the serving jar holds, read from the packaged {@code target/mlserver-runtime.jar}: the
 * runtime and its platform, no build or deploy tooling, and ONNX Runtime natives for the two
 * Linux platforms images run on, without debug symbols.
 */
class RuntimeJarIT {
    private static List<String> entries;
    private static long size;

    @BeforeAll
    static void readTheJar() throws IOException {
        Path jar = Path.of(System.getProperty("mlserver.runtimeJar"));
        size = Files.size(jar);
        try (JarFile file = new JarFile(jar.toFile())) {
            entries = file.stream().map(ZipEntry::getName).toList();
        }
    }

    @Test
    void itHoldsNoBuildOrDeployTooling() {
        for (String tooling : new String[] {
                "com/google/cloud/tools/jib/", // Jib
                "org/eclipse/jgit/", // JGit
                "com/google/api/client/", "com/google/auth/", "com/google/http/", "com/google/api/", // Google clients
                "io/opencensus/", "io/grpc/", // their tracing
                "org/apache/http/", // their HTTP client
                "com/google/common/", // Guava
                "dev/mlserver/gateway/cli/", "dev/mlserver/gateway/repo/", "dev/mlserver/gateway/dev/"}) {
            assertThat(entries).as("entries under " + tooling).noneMatch(e -> e.startsWith(tooling));
        }
    }

    @Test
    void itHoldsTheServerAndThePlatform() {
        assertThat(entries).contains("dev/mlserver/gateway/server/Main.class", "dev/mlserver/api/Classifier.class",
                "org/pf4j/PluginClassLoader.class", "ai/onnxruntime/OrtEnvironment.class",
                "com/fasterxml/jackson/databind/ObjectMapper.class", "org/slf4j/Logger.class",
                "dev/mlserver/gateway/version.properties", "config/gateway.yaml");
    }

    @Test
    void onnxRuntimeNativesAreForLinuxX64AndAarch64Only() {
        List<String> natives = entries.stream()
                .filter(e -> e.startsWith("ai/onnxruntime/native/") && !e.endsWith("/")).toList();
        assertThat(natives).containsExactlyInAnyOrder(
                "ai/onnxruntime/native/linux-x64/libonnxruntime.so",
                "ai/onnxruntime/native/linux-x64/libonnxruntime4j_jni.so",
                "ai/onnxruntime/native/linux-aarch64/libonnxruntime.so",
                "ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so");
    }

    @Test
    void tokenizerNativesAreForLinuxX64AndAarch64Only() {
        List<String> natives = entries.stream()
                .filter(e -> e.startsWith("native/lib/") && !e.endsWith("/") && !e.endsWith(".properties")).toList();
        assertThat(natives).containsExactlyInAnyOrder(
                "native/lib/linux-x86_64/cpu/libtokenizers.so",
                "native/lib/linux-aarch64/cpu/libtokenizers.so");
    }

    @Test
    void itHoldsNoDebugSymbolsAndNoOtherPlatformsLibraries() {
        assertThat(entries).noneMatch(e -> e.endsWith(".pdb") || e.endsWith(".dylib") || e.endsWith(".dll")
                || e.endsWith(".jnilib") || e.contains(".dSYM/") || e.endsWith(".debug"));
        assertThat(entries.stream().filter(e -> e.matches("com/sun/jna/[^/]+/libjnidispatch\\..*")))
                .containsExactlyInAnyOrder("com/sun/jna/linux-x86-64/libjnidispatch.so",
                        "com/sun/jna/linux-aarch64/libjnidispatch.so");
    }

    @Test
    void itIsAFractionOfTheOldAllInOneJar() {
        // the jar that held the CLI, five platforms' natives and their debug symbols was 106 MB;
        // linux x64 and aarch64 natives of ONNX Runtime and the tokenizers are about 40 MB of this
        assertThat(size).isLessThan(60L * 1024 * 1024);
    }
}
