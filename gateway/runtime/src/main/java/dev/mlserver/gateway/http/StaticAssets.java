package dev.mlserver.gateway.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Files of the developer pages, read once from the class path when the router is built and
 * served from memory with an ETag: the console's own HTML, CSS and JavaScript, and Swagger UI
 * from its webjar. Only the files listed here are served; nothing is fetched from elsewhere.
 */
final class StaticAssets {
    private static final String WEB = "/web/";
    private static final String SWAGGER_UI_POM = "/META-INF/maven/org.webjars/swagger-ui/pom.properties";
    private static final List<String> OWN = List.of("index.html", "console.css", "console.js", "docs.html", "docs.js");
    private static final List<String> SWAGGER_UI = List.of("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png");

    private final Map<String, Asset> own;
    private final Map<String, Asset> swaggerUi;

    record Asset(Buffer bytes, String contentType, String etag) {}

    private StaticAssets(Map<String, Asset> own, Map<String, Asset> swaggerUi) {
        this.own = own;
        this.swaggerUi = swaggerUi;
    }

    /** Reads every page file; blocking, so call it before serving. */
    static StaticAssets create() {
        String swaggerRoot = "/META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion() + "/";
        return new StaticAssets(read(WEB, OWN), read(swaggerRoot, SWAGGER_UI));
    }

    /** One of the gateway's own page files, by name under {@code web/}. */
    Optional<Asset> own(String name) {
        return Optional.ofNullable(own.get(name));
    }

    /** One Swagger UI file, by name inside the webjar. */
    Optional<Asset> swaggerUi(String name) {
        return Optional.ofNullable(swaggerUi.get(name));
    }

    /** Sends {@code asset}, or 304 when the client already has it. */
    static void send(RoutingContext ctx, Asset asset) {
        String etag = asset.etag();
        var response = ctx.response()
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader(HttpHeaders.ETAG, etag)
                .putHeader("X-Content-Type-Options", "nosniff");
        if (etag.equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
            response.setStatusCode(304).end();
            return;
        }
        response.putHeader(HttpHeaders.CONTENT_TYPE, asset.contentType()).end(asset.bytes());
    }

    private static Map<String, Asset> read(String root, List<String> names) {
        Map<String, Asset> out = new HashMap<>();
        for (String name : names) {
            String path = root + name;
            try (InputStream in = StaticAssets.class.getResourceAsStream(path)) {
                if (in == null) {
                    throw new IllegalStateException(path + " is missing from the jar");
                }
                byte[] bytes = in.readAllBytes();
                out.put(name, new Asset(Buffer.buffer(bytes), contentType(name), etag(bytes)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path + " from the jar", e);
            }
        }
        return Map.copyOf(out);
    }

    private static String swaggerUiVersion() {
        try (InputStream in = StaticAssets.class.getResourceAsStream(SWAGGER_UI_POM)) {
            if (in == null) {
                throw new IllegalStateException("the swagger-ui webjar is missing from the class path");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String contentType(String path) {
        String p = path.toLowerCase(java.util.Locale.ROOT);
        if (p.endsWith(".html")) {
            return "text/html; charset=utf-8";
        } else if (p.endsWith(".css")) {
            return "text/css; charset=utf-8";
        } else if (p.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        } else if (p.endsWith(".png")) {
            return "image/png";
        } else if (p.endsWith(".svg")) {
            return "image/svg+xml";
        }
        return "application/octet-stream";
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
