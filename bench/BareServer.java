import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The benchmark's baseline: a bare Vert.x Web route, {@code POST /<name>}, that answers with the
 * bytes of {@code <dir>/<name>.json} and does nothing else (no parsing, model, metrics or logs).
 * Same Vert.x, same event-loop count as the gateway. Usage: {@code BareServer PORT DIR [epoll]}: NIO
 * by default (the baseline the gateway's targets are stated against), Netty's native epoll
 * transport with {@code epoll} (the gateway's own default where it loads).
 */
public final class BareServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Map<String, Buffer> bodies = new HashMap<>();
        try (Stream<Path> files = Files.list(Path.of(args[1]))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
                bodies.put(f.getFileName().toString().replace(".json", ""), Buffer.buffer(Files.readAllBytes(f)));
            }
        }
        int loops = Runtime.getRuntime().availableProcessors();
        boolean epoll = args.length > 2 && args[2].equals("epoll");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(epoll));
        if (epoll && !vertx.isNativeTransportEnabled()) {
            throw new IllegalStateException("epoll transport unavailable", vertx.unavailableNativeTransportCause());
        }
        CharSequence json = HttpHeaders.createOptimized("application/json");
        vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                Router router = Router.router(vertx);
                router.post("/:name").handler(ctx -> {
                    Buffer body = bodies.get(ctx.pathParam("name"));
                    if (body == null) {
                        ctx.response().setStatusCode(404).end();
                    } else {
                        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, json).end(body);
                    }
                });
                return vertx.createHttpServer().requestHandler(router).listen(port, "127.0.0.1");
            }
        }, new DeploymentOptions().setInstances(loops)).await();
        System.out.println("bare server on 127.0.0.1:" + port + (epoll ? " (epoll)" : " (NIO)") + " serving " + bodies.keySet());
    }
}
