package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import dev.mlserver.gateway.config.ClassifierSettings;
import dev.mlserver.gateway.config.ClassifierSettings.Routing;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.Yaml;
import dev.mlserver.gateway.registry.ClassifierRegistry;
import dev.mlserver.gateway.registry.ClassifierVersions;
import dev.mlserver.gateway.registry.LoadedClassifier;
import dev.mlserver.gateway.versions.Traffic;
import dev.mlserver.gateway.config.GatewayConfig;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;

/**
 * The admin routes for versions: {@code POST /admin/config/reload} reads the gateway config
 * again; {@code GET /admin/classifiers} shows each classifier's versions and routing;
 * {@code PUT} or {@code DELETE /admin/classifiers/<name>/default|canary|shadow} changes one
 * classifier's routing at once. A change made here lasts until the next reload or restart.
 */
final class VersionAdmin implements RouteGroup {
    private static final int MAX_BODY = 16 * 1024;
    private static final String NAME = "name";
    private static final String ONE = "/admin/classifiers/:" + NAME + "/";

    @Override
    public List<Route> routes(GatewayConfig config) {
        return List.of(
                Route.post("admin_config_reload", "/admin/config/reload", Access.ADMIN),
                Route.get("admin_classifiers", "/admin/classifiers", Access.ADMIN),
                new Route("admin_default_set", HttpMethod.PUT, ONE + "default", Access.ADMIN, Route.Doc.HIDDEN),
                new Route("admin_default_clear", HttpMethod.DELETE, ONE + "default", Access.ADMIN, Route.Doc.HIDDEN),
                new Route("admin_canary_set", HttpMethod.PUT, ONE + "canary", Access.ADMIN, Route.Doc.HIDDEN),
                new Route("admin_canary_clear", HttpMethod.DELETE, ONE + "canary", Access.ADMIN, Route.Doc.HIDDEN),
                new Route("admin_shadow_set", HttpMethod.PUT, ONE + "shadow", Access.ADMIN, Route.Doc.HIDDEN),
                new Route("admin_shadow_clear", HttpMethod.DELETE, ONE + "shadow", Access.ADMIN, Route.Doc.HIDDEN));
    }

    @Override
    public Map<String, List<Handler<RoutingContext>>> bind(RouteServices services, RouteTable table) {
        Map<String, List<Handler<RoutingContext>>> handlers = new HashMap<>();
        if (!services.config().lifecycle().adminEnabled()) {
            Handler<RoutingContext> off = ctx -> ctx.fail(new GatewayException(ErrorCode.NOT_FOUND,
                    "the admin routes are off; set admin.enabled: true"));
            routes(services.config()).forEach(r -> handlers.put(r.name(), List.of(off)));
            return handlers;
        }
        Admin admin = new Admin(services);
        Handler<RoutingContext> body = JsonBody.buffered(MAX_BODY);
        handlers.put("admin_config_reload", List.of(admin::reload));
        handlers.put("admin_classifiers", List.of(admin::list));
        handlers.put("admin_default_set", List.of(body, ctx -> admin.change(ctx, (r, b) -> r.withDefaultVersion(
                admin.loaded(ctx, Yaml.Node.of(b, "default").string("version", ""))))));
        handlers.put("admin_default_clear", List.of(ctx -> admin.change(ctx, (r, b) -> r.withDefaultVersion(""))));
        handlers.put("admin_canary_set", List.of(body, ctx -> admin.change(ctx, (r, b) -> {
            ClassifierSettings.Canary canary = ClassifierSettings.canary(Yaml.Node.of(b, "canary"));
            admin.loaded(ctx, canary.version());
            return r.withCanary(canary);
        })));
        handlers.put("admin_canary_clear", List.of(ctx -> admin.change(ctx, (r, b) -> r.withCanary(ClassifierSettings.Canary.NONE))));
        handlers.put("admin_shadow_set", List.of(body, ctx -> admin.change(ctx, (r, b) -> {
            ClassifierSettings.Shadow shadow = ClassifierSettings.shadow(Yaml.Node.of(b, "shadow"));
            admin.loaded(ctx, shadow.version());
            return r.withShadow(shadow);
        })));
        handlers.put("admin_shadow_clear", List.of(ctx -> admin.change(ctx, (r, b) -> r.withShadow(ClassifierSettings.Shadow.NONE))));
        return handlers;
    }

    /** A change to one classifier's routing, given its routing now and the request body. */
    private interface Change {
        Routing apply(Routing routing, JsonNode body);
    }

    private static final class Admin {
    private final Vertx vertx;
    private final ClassifierRegistry registry;
    private final Traffic traffic;
    private final Callable<?> reload;

    Admin(RouteServices services) {
        this.vertx = services.vertx();
        this.registry = services.registry();
        this.traffic = services.traffic();
        this.reload = services.reloadConfig();
    }

    private void reload(RoutingContext ctx) {
        // reading the file and loading jars for new limits: never on the event loop
        vertx.executeBlocking(reload, false).onComplete(done -> {
            if (done.failed()) {
                Throwable e = done.cause();
                ctx.fail(e instanceof ConfigException ? new GatewayException(ErrorCode.INVALID_CONFIG,
                        "config refused, the one in effect stays: " + e.getMessage()) : e);
                return;
            }
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.set("reload", Json.MAPPER.valueToTree(done.result()));
            out.set("classifiers", classifiers());
            Responses.send(ctx.response(), 200, Responses.json(out));
        });
    }

    private void list(RoutingContext ctx) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.set("classifiers", classifiers());
        Responses.send(ctx.response(), 200, Responses.json(out));
    }

    private void change(RoutingContext ctx, Change change) {
        String name = ctx.pathParam(NAME);
        if (registry.versions(name).isEmpty()) {
            ctx.fail(new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, "no classifier named '" + clip(name) + "'"));
            return;
        }
        JsonNode body;
        try {
            io.vertx.core.buffer.Buffer bytes = ctx.body() == null ? null : ctx.body().buffer();
            body = bytes == null || bytes.length() == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(bytes.getBytes());
        } catch (IOException e) {
            ctx.fail(new GatewayException(ErrorCode.INVALID_JSON, "the body is not JSON"));
            return;
        }
        try {
            UnaryOperator<Routing> update = r -> change.apply(r, body);
            traffic.update(name, update);
        } catch (ConfigException e) {
            ctx.fail(new GatewayException(ErrorCode.INVALID_INPUT, e.getMessage()));
            return;
        } catch (GatewayException e) {
            ctx.fail(e);
            return;
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.set("classifier", classifier(registry.versions(name).orElseThrow()));
        Responses.send(ctx.response(), 200, Responses.json(out));
    }

    /** {@code version} when it is a loaded version of the request's classifier; else a 404. */
    private String loaded(RoutingContext ctx, String version) {
        String name = ctx.pathParam(NAME);
        if (version.isBlank()) {
            throw new ConfigException("name a version: {\"version\": \"1.2.0\"}");
        }
        if (registry.find(name, version).isEmpty()) {
            throw new GatewayException(ErrorCode.UNKNOWN_CLASSIFIER, "no version '" + clip(version) + "' of " + name
                    + " is loaded");
        }
        return version;
    }

    private ArrayNode classifiers() {
        ArrayNode out = Json.MAPPER.createArrayNode();
        registry.classifiers().forEach(v -> out.add(classifier(v)));
        return out;
    }

    private ObjectNode classifier(ClassifierVersions versions) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("name", versions.name());
        Routing routing = traffic.routing(versions.name());
        ObjectNode r = out.putObject("routing");
        r.put("default_version", routing.defaultVersion());
        if (routing.canary().enabled()) {
            r.putObject("canary").put("version", routing.canary().version()).put("weight", routing.canary().weight())
                    .put("sticky_header", routing.canary().stickyHeader());
        }
        if (routing.shadow().enabled()) {
            r.putObject("shadow").put("version", routing.shadow().version()).put("sample", routing.shadow().sample())
                    .put("max_queue", routing.shadow().maxQueue());
        }
        ArrayNode list = out.putArray("versions");
        for (LoadedClassifier c : versions.all()) {
            list.addObject().put("version", c.info().version()).put("role", traffic.role(c).wire())
                    .put("jar", c.info().jar().getFileName().toString()).put("in_flight", c.bulkhead().running());
        }
        return out;
    }

    }
}
