package dev.mlserver.examples.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlserver.api.Classifier;
import dev.mlserver.api.ClassifierContext;
import dev.mlserver.api.ClassifierException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A classifier module as its tests see it: its {@code mlserver.yaml}, the artifacts the build put
 * in {@code target/classes/artifacts} (committed ones and any the build unpacked), and the
 * classifier class its extension index names, which is the class the gateway would load.
 */
public final class PluginModule {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final JsonNode card;

    private PluginModule(Path dir) {
        this.dir = dir;
        this.card = readCard(dir.resolve("mlserver.yaml"));
    }

    /** The module whose tests are running (Surefire runs them in the module directory). */
    public static PluginModule current() {
        return of(Path.of("").toAbsolutePath());
    }

    public static PluginModule of(Path dir) {
        return new PluginModule(dir);
    }

    public Path dir() {
        return dir;
    }

    /** The model card, {@code mlserver.yaml}, as a tree. */
    public JsonNode card() {
        return card;
    }

    public String name() {
        return card.path("name").asText(dir.getFileName().toString());
    }

    /** The class named in the module's built extension index, {@code META-INF/extensions.idx}. */
    public String classifierClassName() {
        Path index = dir.resolve("target/classes/META-INF/extensions.idx");
        try {
            List<String> lines = Files.readAllLines(index).stream().map(String::trim).filter(l -> !l.isEmpty()).toList();
            if (lines.size() != 1) {
                throw new IllegalStateException(index + " names " + lines.size() + " extensions, not one");
            }
            return lines.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException("no extension index; run the module's build first: " + e.getMessage(), e);
        }
    }

    /** A new instance of the module's classifier class, not yet open. */
    public Classifier newClassifier() {
        try {
            return (Classifier) Class.forName(classifierClassName()).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create " + classifierClassName(), e);
        }
    }

    /** The module's classifier, opened on its own artifacts and card. Close it after use. */
    public Classifier open() {
        Classifier classifier = newClassifier();
        classifier.open(context());
        return classifier;
    }

    /** A context like the gateway's: this module's card and artifacts, one intra-op thread. */
    public ClassifierContext context() {
        return context(card);
    }

    /** A context like the gateway's with another card: this module's artifacts, one intra-op thread. */
    public ClassifierContext context(JsonNode card) {
        Path artifacts = dir.resolve("target/classes/artifacts");
        String name = name();
        Logger logger = LoggerFactory.getLogger("test.classifier." + name);
        return new ClassifierContext() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String version() {
                return "test";
            }

            @Override
            public JsonNode config() {
                return card;
            }

            @Override
            public byte[] artifact(String artifact) {
                try {
                    return Files.readAllBytes(artifacts.resolve(artifact));
                } catch (IOException e) {
                    throw new ClassifierException("artifact '" + artifact + "' is missing: " + e.getMessage(), e);
                }
            }

            @Override
            public boolean hasArtifact(String artifact) {
                return Files.isRegularFile(artifacts.resolve(artifact));
            }

            @Override
            public int intraOpThreads() {
                return 1;
            }

            @Override
            public Logger logger() {
                return logger;
            }
        };
    }

    private static JsonNode readCard(Path file) {
        try {
            Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
            return JSON.valueToTree(tree);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
