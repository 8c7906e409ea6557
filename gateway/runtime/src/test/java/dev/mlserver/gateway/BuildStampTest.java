package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Responses name the exact build: the plugin jar's manifest, stamped from git by the build. */
class BuildStampTest {
    @TempDir
    Path plugins;

    @Test
    void theReactorBuiltJarAnswersWithTheCheckoutsCommit() throws Exception {
        String head = git("rev-parse", "--short=7", "HEAD");
        assumeThat(head).as("a git checkout").isNotEmpty();
        try (TestGateway gateway = TestGateway.start(TestGateway.examplePlugins())) {
            JsonNode metadata = TestGateway.json(gateway.post("/iris/predict", "{\"payload\": [5.1, 3.5, 1.4, 0.2]}"))
                    .get("metadata");
            assertThat(metadata.get("git_commit").asText()).isEqualTo(head);
            assertThat(metadata.get("version").asText()).isEqualTo(pomVersion(Path.of("..", "..", "plugins", "iris", "pom.xml")));
            assertThat(metadata.get("repository").asText()).isEqualTo("mlserver-examples");
        }
    }

    @Test
    void theClassifiersHierarchicalTagIsPickedFromTheTagsAtTheCommit() throws IOException {
        Path jar = PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "iris", "2.3.1");
        restamp(jar, "Git-Tags", "release-7,iris-v2.3.1,other-v1.0.0");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            JsonNode metadata = TestGateway.json(gateway.get("/iris")).get("metadata");
            assertThat(metadata.get("git_tag").asText()).isEqualTo("iris-v2.3.1");
            assertThat(metadata.get("version").asText()).isEqualTo("2.3.1");
        }
    }

    @Test
    void theDirectoryTagFormatIsRecognisedToo() throws IOException {
        Path jar = PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "iris", "2.3.1");
        restamp(jar, "Git-Tags", "classifiers/iris/v2.3.1");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(TestGateway.json(gateway.get("/iris")).get("metadata").get("git_tag").asText())
                    .isEqualTo("classifiers/iris/v2.3.1");
        }
    }

    @Test
    void noTagForThisVersionGivesNull() throws IOException {
        Path jar = PluginJars.renamed(TestGateway.examplePlugins().resolve("iris.jar"), plugins, "iris", "2.3.1");
        restamp(jar, "Git-Tags", "iris-v2.3.0");
        try (TestGateway gateway = TestGateway.start(plugins)) {
            assertThat(TestGateway.json(gateway.get("/iris")).get("metadata").get("git_tag").isNull()).isTrue();
        }
    }

    private static void restamp(Path jar, String key, String value) throws IOException {
        Path tmp = jar.resolveSibling("restamp.tmp");
        try (var in = new java.util.jar.JarFile(jar.toFile())) {
            var mf = new java.util.jar.Manifest(in.getManifest());
            mf.getMainAttributes().putValue(key, value);
            try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(tmp), mf)) {
                for (var it = in.entries(); it.hasMoreElements(); ) {
                    var e = it.nextElement();
                    if (e.getName().equals("META-INF/MANIFEST.MF")) {
                        continue;
                    }
                    out.putNextEntry(new java.util.jar.JarEntry(e.getName()));
                    out.write(in.getInputStream(e).readAllBytes());
                    out.closeEntry();
                }
            }
        }
        Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static String pomVersion(Path pom) throws IOException {
        String xml = Files.readString(pom);
        int parentEnd = xml.indexOf("</parent>");
        var m = java.util.regex.Pattern.compile("<version>([^<]+)</version>").matcher(xml);
        while (m.find()) {
            if (m.start() > parentEnd) {
                return m.group(1);
            }
        }
        throw new AssertionError("no version in " + pom);
    }

    private static String git(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "git";
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "";
    }
}
