package dev.mlserver.gateway.http;

import io.vertx.core.http.HttpMethod;

/**
 * The Open Inference Protocol's REST routes, each declared once: the protocol's handlers (package
 * {@code v2}) are mounted from these, and the OpenAPI document lists them. They sit beside the
 * {@link RouteTable} rather than in it: they answer in the protocol's own error shape
 * ({@code {"error": "..."}}) with their own 404 and 405. Their access follows the native routes':
 * server health open, server metadata any token, and everything that names a model (its
 * readiness too, which would otherwise tell a caller without a token which models exist) a
 * token granted that model.
 */
public enum ProtocolRoute {
    SERVER("server", HttpMethod.GET, "/v2", Access.TOKEN),
    LIVE("live", HttpMethod.GET, "/v2/health/live", Access.OPEN),
    SERVER_READY("server_ready", HttpMethod.GET, "/v2/health/ready", Access.OPEN),
    METADATA("metadata", HttpMethod.GET, "/v2/models/:classifier", Access.CLASSIFIER),
    READY("ready", HttpMethod.GET, "/v2/models/:classifier/ready", Access.CLASSIFIER),
    INFER("infer", HttpMethod.POST, "/v2/models/:classifier/infer", Access.CLASSIFIER),
    VERSION_METADATA("metadata", HttpMethod.GET, "/v2/models/:classifier/versions/:version", Access.CLASSIFIER),
    VERSION_READY("ready", HttpMethod.GET, "/v2/models/:classifier/versions/:version/ready", Access.CLASSIFIER),
    VERSION_INFER("infer", HttpMethod.POST, "/v2/models/:classifier/versions/:version/infer", Access.CLASSIFIER);

    private final String label;
    private final HttpMethod method;
    private final String path;
    private final Access access;

    ProtocolRoute(String label, HttpMethod method, String path, Access access) {
        this.label = label;
        this.method = method;
        this.path = path;
        this.access = access;
    }

    /** The route label of metrics ({@code protocol="v2-rest"}) and access lines; a pinned route shares its unpinned one's. */
    public String label() {
        return label;
    }

    public HttpMethod method() {
        return method;
    }

    /** A Vert.x path: {@code :classifier} names the model, {@code :version} one of its loaded versions. */
    public String path() {
        return path;
    }

    /** Who may call it with tokens on: {@link Access#OPEN}, {@link Access#TOKEN} or {@link Access#CLASSIFIER} (exactly the paths that name a model). */
    public Access access() {
        return access;
    }

    /** Whether the path names a model: the OpenAPI document lists it once per model the caller may call. */
    public boolean perModel() {
        return path.contains("/:" + Route.CLASSIFIER);
    }

    /** Whether the path names a version. */
    public boolean pinned() {
        return path.contains("/:version");
    }

    /** The path for {@code model}; a pinned route's keeps its {@code :version}. */
    public String path(String model) {
        return path.replace(":" + Route.CLASSIFIER, model);
    }

    /** The path as the OpenAPI document writes it for {@code model}. */
    String openApiPath(String model) {
        return path(model).replace(":version", "{version}");
    }
}
