package dev.mlserver.gateway.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.plugin.ClassifierInfo;
import io.vertx.core.http.HttpMethod;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * One route of the gateway, declared once: everything else about it (where the router mounts
 * it, who may call it, how it is labelled in metrics and access lines, its OpenAPI entry, the
 * classifier names it reserves, its 404 and 405 answers) is derived from this declaration by
 * {@link RouteTable}.
 *
 * @param name   the route's label in {@code mlserver_requests_total{route}} and access lines, and
 *               its OpenAPI operation id; unique in the table, {@code [a-z][a-z0-9_]*}
 * @param method the one HTTP method it answers; other methods on its path get 405 with {@code Allow}
 * @param path   a Vert.x path: literal segments and {@code :param} segments. {@code :classifier}
 *               names the classifier the request is for, and a route has it exactly when its
 *               access is {@link Access#CLASSIFIER}
 * @param access who may call it when tokens are on
 * @param doc    its OpenAPI entry, or {@link Doc#HIDDEN}
 */
public record Route(String name, HttpMethod method, String path, Access access, Doc doc) {
    /** The path parameter that names a classifier. */
    public static final String CLASSIFIER = "classifier";

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    private static final Pattern SEGMENT = Pattern.compile(":?[A-Za-z0-9._~-]+");

    public Route {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(doc, "doc");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("route name '" + name + "' must match " + NAME.pattern());
        }
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("route " + name + ": path '" + path + "' must start with /");
        }
        if (!path.equals("/")) {
            for (String segment : path.substring(1).split("/", -1)) {
                if (!SEGMENT.matcher(segment).matches()) {
                    throw new IllegalArgumentException("route " + name + ": path '" + path
                            + "' must be literal or :param segments, without wildcards or empty segments");
                }
            }
        }
        boolean named = hasParam(path, CLASSIFIER);
        if (named != (access == Access.CLASSIFIER)) {
            throw new IllegalArgumentException("route " + name + ": a path with :" + CLASSIFIER
                    + " needs Access.CLASSIFIER and Access.CLASSIFIER needs :" + CLASSIFIER + " (" + path + ", " + access + ")");
        }
        if (doc instanceof Doc.PerClassifier && !named) {
            throw new IllegalArgumentException("route " + name + ": a per-classifier OpenAPI entry needs :" + CLASSIFIER);
        }
        if (doc instanceof Doc.Gateway && named) {
            throw new IllegalArgumentException("route " + name + ": a classifier route documents itself per classifier");
        }
    }

    public static Route get(String name, String path, Access access) {
        return new Route(name, HttpMethod.GET, path, access, Doc.HIDDEN);
    }

    public static Route post(String name, String path, Access access) {
        return new Route(name, HttpMethod.POST, path, access, Doc.HIDDEN);
    }

    /** This route with {@code doc} as its OpenAPI entry. */
    public Route doc(Doc doc) {
        return new Route(name, method, path, access, doc);
    }

    /** Whether the path names a classifier. */
    public boolean classifierScoped() {
        return access == Access.CLASSIFIER;
    }

    /**
     * Whether the router tries this route ahead of the other groups' routes: a classifier's
     * {@code POST} routes, the predictions that make up nearly all of the traffic.
     */
    public boolean matchedEarly() {
        return classifierScoped() && method == HttpMethod.POST;
    }

    /** Whether some path matches both routes' paths: as many segments, and no two literal ones that differ. */
    boolean overlaps(Route other) {
        String[] mine = path.split("/", -1);
        String[] theirs = other.path.split("/", -1);
        if (mine.length != theirs.length) {
            return false;
        }
        for (int i = 0; i < mine.length; i++) {
            if (!mine[i].startsWith(":") && !theirs[i].startsWith(":") && !mine[i].equals(theirs[i])) {
                return false;
            }
        }
        return true;
    }

    /** The first path segment when it is literal: a name no classifier may take. */
    public Optional<String> reservedSegment() {
        String first = path.equals("/") ? "" : path.substring(1).split("/", 2)[0];
        return first.isEmpty() || first.startsWith(":") ? Optional.empty() : Optional.of(first);
    }

    /** The path as the OpenAPI document writes it: {@code :classifier} replaced by {@code classifier}, other parameters as {@code {name}}. */
    String openApiPath(String classifier) {
        StringBuilder out = new StringBuilder();
        for (String segment : path.substring(1).split("/", -1)) {
            out.append('/');
            if (segment.equals(":" + CLASSIFIER)) {
                out.append(classifier);
            } else if (segment.startsWith(":")) {
                out.append('{').append(segment, 1, segment.length()).append('}');
            } else {
                out.append(segment);
            }
        }
        return out.toString();
    }

    private static boolean hasParam(String path, String param) {
        for (String segment : path.split("/", -1)) {
            if (segment.equals(":" + param)) {
                return true;
            }
        }
        return false;
    }

    /** A route's entry in {@code /openapi.json}. The document adds the tags and the operation id. */
    public sealed interface Doc {
        /** Not in the document: the page files behind {@code /} and {@code /docs}. */
        Doc HIDDEN = new Hidden();

        /** A gateway route: one operation. */
        static Doc gateway(Supplier<ObjectNode> operation) {
            return new Gateway(operation);
        }

        /** A classifier route: one operation for each classifier the caller may call. */
        static Doc perClassifier(Function<ClassifierInfo, ObjectNode> operation) {
            return new PerClassifier(operation);
        }

        record Hidden() implements Doc {}

        record Gateway(Supplier<ObjectNode> operation) implements Doc {
            public Gateway {
                Objects.requireNonNull(operation, "operation");
            }
        }

        record PerClassifier(Function<ClassifierInfo, ObjectNode> operation) implements Doc {
            public PerClassifier {
                Objects.requireNonNull(operation, "operation");
            }
        }
    }
}
