package dev.mlserver.gateway.repo;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * What ml_server needs from a Maven {@code pom.xml}: coordinates, the module's own
 * {@code <version>} (a classifier's version lives there and nowhere else), its parent, properties
 * and dependencies. {@link #withVersion} rewrites that one element and leaves every other byte
 * of the file as it was.
 */
public final class PomFile {
    /** Comments, processing instructions, CDATA, doctype, or a tag with its name; for the version edit. */
    private static final Pattern TOKEN = Pattern.compile(
            "<!--.*?-->|<\\?.*?\\?>|<!\\[CDATA\\[.*?]]>|<!DOCTYPE[^>]*>|<(/?)([A-Za-z_][\\w.:-]*)(?:\\s[^>]*?)?(/?)>",
            Pattern.DOTALL);

    private final Path file;
    private final String text;
    private final Element project;

    private PomFile(Path file, String text, Element project) {
        this.file = file;
        this.text = text;
        this.project = project;
    }

    /** A dependency as written in the pom; fields may be null when inherited. */
    public record Dependency(String groupId, String artifactId, String version, String scope) {}

    public static PomFile read(Path file) {
        try {
            return parse(file, Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RepoException("cannot read " + file + ": " + e.getMessage());
        }
    }

    static PomFile parse(Path file, String text) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setExpandEntityReferences(false);
            factory.setNamespaceAware(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            Document doc = builder.parse(new InputSource(new StringReader(text)));
            Element root = doc.getDocumentElement();
            if (!root.getTagName().equals("project")) {
                throw new RepoException(file + ": not a Maven pom (root element <" + root.getTagName() + ">)");
            }
            return new PomFile(file, text, root);
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new RepoException(file + ": not well-formed XML: " + e.getMessage());
        }
    }

    public Path file() {
        return file;
    }

    public String text() {
        return text;
    }

    public Optional<String> artifactId() {
        return child(project, "artifactId");
    }

    /** The module's own {@code <version>}, not the parent's. */
    public Optional<String> ownVersion() {
        return child(project, "version");
    }

    public Optional<String> parentVersion() {
        return element(project, "parent").flatMap(p -> child(p, "version"));
    }

    /** The version Maven builds this module at: its own, else its parent's. */
    public Optional<String> version() {
        return ownVersion().or(this::parentVersion);
    }

    /** The parent pom's file, when the parent is a pom of the same tree. */
    public Optional<Path> parentFile() {
        Optional<Element> parent = element(project, "parent");
        if (parent.isEmpty()) {
            return Optional.empty();
        }
        String relative = child(parent.get(), "relativePath").orElse("../pom.xml");
        if (relative.isBlank()) {
            return Optional.empty();
        }
        Path candidate = file.getParent().resolve(relative).normalize();
        if (Files.isDirectory(candidate)) {
            candidate = candidate.resolve("pom.xml");
        }
        return Files.isRegularFile(candidate) ? Optional.of(candidate) : Optional.empty();
    }

    public Map<String, String> properties() {
        Map<String, String> out = new LinkedHashMap<>();
        element(project, "properties").ifPresent(p -> {
            for (Node n = p.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e) {
                    out.put(e.getTagName(), e.getTextContent().trim());
                }
            }
        });
        return out;
    }

    /** A property of this pom or, failing that, of its parents in the same tree. */
    public Optional<String> property(String name) {
        PomFile pom = this;
        for (int depth = 0; pom != null && depth < 10; depth++) {
            String value = pom.properties().get(name);
            if (value != null) {
                return Optional.of(value);
            }
            pom = pom.parentFile().map(PomFile::read).orElse(null);
        }
        return Optional.empty();
    }

    /** The dependencies declared in this pom itself (not the parent's). */
    public List<Dependency> dependencies() {
        List<Dependency> out = new ArrayList<>();
        element(project, "dependencies").ifPresent(deps -> {
            for (Node n = deps.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && e.getTagName().equals("dependency")) {
                    out.add(new Dependency(child(e, "groupId").orElse(null), child(e, "artifactId").orElse(null),
                            child(e, "version").orElse(null), child(e, "scope").orElse("compile")));
                }
            }
        });
        return out;
    }

    /**
     * The pom's text with the module's own {@code <version>} set to {@code version}; nothing else
     * changes, not even whitespace.
     *
     * @throws RepoException when the module has no {@code <version>} of its own
     */
    public String withVersion(String version) {
        Matcher m = TOKEN.matcher(text);
        int depth = 0;
        int start = -1;
        while (m.find()) {
            if (m.group(2) == null) {
                continue; // comment, PI, CDATA, doctype
            }
            boolean closing = !m.group(1).isEmpty();
            boolean empty = !m.group(3).isEmpty();
            if (closing) {
                depth--;
                if (start >= 0 && depth == 1 && m.group(2).equals("version")) {
                    String updated = text.substring(0, start) + version + text.substring(m.start());
                    PomFile check = parse(file, updated);
                    if (!check.ownVersion().orElse("").equals(version)
                            || !check.parentVersion().equals(parentVersion())) {
                        throw new RepoException(file + ": could not rewrite <version> safely; edit it by hand");
                    }
                    return updated;
                }
            } else if (!empty) {
                if (depth == 1 && m.group(2).equals("version")) {
                    start = m.end();
                }
                depth++;
            }
        }
        throw new RepoException(file + " has no <version> of its own (it inherits "
                + parentVersion().orElse("none") + " from its parent): add one, the classifier's version lives there");
    }

    private static Optional<Element> element(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> child(Element parent, String name) {
        return element(parent, name).map(e -> e.getTextContent().trim()).filter(s -> !s.isEmpty());
    }
}
