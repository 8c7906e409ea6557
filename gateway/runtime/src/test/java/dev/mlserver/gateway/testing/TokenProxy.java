package dev.mlserver.gateway.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;

/**
 * A reverse proxy on 127.0.0.1 in front of a gateway that answers 401 to any API call without
 * {@code Authorization: Bearer <token>}, as a gateway with tokens on does; the pages themselves
 * ({@code /}, {@code /docs...}, {@code /favicon.ico}) pass without one.
 */
public final class TokenProxy implements AutoCloseable {
    private final Vertx vertx;
    private final HttpServer server;

    private TokenProxy(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    public static TokenProxy start(int gatewayPort, String token) {
        Vertx vertx = Vertx.vertx();
        HttpClient client = vertx.createHttpClient();
        HttpServer server = vertx.createHttpServer().requestHandler(request -> {
            String path = request.path();
            boolean page = path.equals("/") || path.startsWith("/docs") || path.equals("/favicon.ico");
            if (!page && !("Bearer " + token).equals(request.getHeader("Authorization"))) {
                request.response().setStatusCode(401).putHeader("Content-Type", "application/json")
                        .putHeader("WWW-Authenticate", "Bearer")
                        .end("{\"error\":{\"code\":\"unauthorized\",\"message\":\"send Authorization: Bearer <token>\"}}");
                return;
            }
            forward(client, gatewayPort, request);
        });
        server.listen(0, "127.0.0.1").await();
        return new TokenProxy(vertx, server);
    }

    private static void forward(HttpClient client, int port, HttpServerRequest request) {
        request.body().compose(body -> client.request(new RequestOptions().setHost("127.0.0.1").setPort(port)
                        .setMethod(request.method()).setURI(request.uri()).setHeaders(request.headers()))
                .compose(out -> out.send(body)))
                .compose(answer -> answer.body().map(b -> {
                    request.response().setStatusCode(answer.statusCode()).headers().setAll(answer.headers());
                    request.response().end(b);
                    return null;
                }))
                .onFailure(e -> request.response().setStatusCode(502).end(e.toString()));
    }

    public int port() {
        return server.actualPort();
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
