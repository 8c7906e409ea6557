package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.plugin.PluginManifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * A classifier module of a repository: a Maven module with {@code mlserver.yaml} beside its pom.
 * Its name is the module's artifactId (the plugin id), its version the module pom's
 * {@code <version>}, the one place it is written.
 *
 * @param repository the family's repository name: the {@code mlserver.repository} property of the
 *     module or a parent pom, else the repository directory's name
 */
public record ClassifierModule(String name, String version, Path dir, String repository) {
    public ClassifierModule {
        Objects.requireNonNull(dir, "dir");
        if (name == null || !PluginManifest.NAME.matcher(name).matches()) {
            throw new DeployException(dir + ": the artifactId '" + name + "' is not a classifier name"
                    + " (lowercase letters, digits and dashes)");
        }
        if (version == null || version.isBlank() || version.contains("${")) {
            throw new DeployException(dir + "/pom.xml: the module has no literal <version>");
        }
    }

    /** True when {@code dir} holds a classifier module. */
    public static boolean isModule(Path dir) {
        return Files.isRegularFile(dir.resolve("pom.xml")) && Files.isRegularFile(dir.resolve("mlserver.yaml"));
    }

    /** Reads the module in {@code dir}; {@code fallbackRepository} when no pom names one. */
    public static ClassifierModule read(Path dir, String fallbackRepository) {
        Path moduleDir = dir.toAbsolutePath().normalize();
        if (!isModule(moduleDir)) {
            throw new DeployException(dir + " is not a classifier module (no pom.xml with mlserver.yaml beside it)");
        }
        Element project = parse(moduleDir.resolve("pom.xml"));
        String artifactId = child(project, "artifactId").orElse(null);
        String version = child(project, "version")
                .or(() -> childElement(project, "parent").flatMap(p -> child(p, "version")))
                .orElse(null);
        String repository = repositoryProperty(moduleDir).orElse(fallbackRepository);
        return new ClassifierModule(artifactId, version, moduleDir, repository);
    }

    /** The jar {@code mvn package} leaves: {@code target/<artifactId>-<version>.jar}. */
    public Path builtJar() {
        return dir.resolve("target").resolve(name + "-" + version + ".jar");
    }

    /** The module's own or an enclosing pom's {@code mlserver.repository} property. */
    private static Optional<String> repositoryProperty(Path moduleDir) {
        for (Path d = moduleDir; d != null && Files.isRegularFile(d.resolve("pom.xml")); d = d.getParent()) {
            Optional<String> value = childElement(parse(d.resolve("pom.xml")), "properties")
                    .flatMap(p -> child(p, "mlserver.repository"));
            if (value.isPresent()) {
                return value;
            }
        }
        return Optional.empty();
    }

    private static Element parse(Path pom) {
        try (InputStream in = Files.newInputStream(pom)) {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            Document document = builder.parse(in);
            return document.getDocumentElement();
        } catch (IOException | SAXException | ParserConfigurationException e) {
            throw new DeployException("cannot read " + pom + ": " + e.getMessage(), e);
        }
    }

    private static Optional<Element> childElement(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(e.getTagName())) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> child(Element parent, String name) {
        return childElement(parent, name).map(e -> e.getTextContent().trim()).filter(s -> !s.isEmpty());
    }
}
