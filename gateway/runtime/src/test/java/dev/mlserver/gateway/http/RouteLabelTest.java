package dev.mlserver.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mlserver.gateway.testing.PluginJars;
import dev.mlserver.gateway.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * The route label of metrics and access lines is the name of the route the router matched, not
 * a guess from the path: classifiers named {@code predict} and {@code ready} are counted right.
 */
class RouteLabelTest {
    static final String BODY = "{\"payload\": [5.1, 3.5, 1.4, 0.2]}";

    @TempDir
    static Path plugins;
    static TestGateway gateway;
    static final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    static final Logger access = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);

    @BeforeAll
    static void start() throws IOException {
        Path iris = TestGateway.examplePlugins().resolve("iris.jar");
        PluginJars.renamed(iris, plugins, "predict", "1.0.0");
        PluginJars.renamed(iris, plugins, "ready", "1.0.0");
        lines.start();
        access.addAppender(lines);
        gateway = TestGateway.start(plugins);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        access.detachAppender(lines);
    }

    @Test
    void aClassifierNamedReadyOrPredictIsCountedUnderTheRouteItWasAsked() {
        Map<String, String> asked = Map.of(
                "GET /predict", "describe",
                "GET /ready", "describe",
                "GET /ready/ready", "ready",
                "GET /predict/ready", "ready",
                "POST /predict/predict", "predict",
                "POST /ready/predict", "predict",
                "POST /ready/predict_proba", "predict_proba");
        Map<String, Double> before = new java.util.HashMap<>();
        asked.forEach((request, route) -> before.put(request, count(classifier(request), route)));
        asked.forEach((request, route) -> {
            String[] parts = request.split(" ");
            HttpResponse<String> response = parts[0].equals("GET") ? gateway.get(parts[1]) : gateway.post(parts[1], BODY);
            assertThat(response.statusCode()).as(request + ": " + response.body()).isEqualTo(200);
        });
        // counted when the response has ended, a moment after the client has it
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> asked.forEach((request, route) ->
                assertThat(count(classifier(request), route)).as(request + " counted as " + route)
                        .isGreaterThanOrEqualTo(before.get(request) + occurrences(asked, classifier(request), route))));
        String metrics = gateway.get("/metrics").body();
        for (String label : new String[] {"predict", "predict_proba", "ready", "describe"}) {
            assertThat(metrics).contains("route=\"" + label + "\"");
        }
        assertThat(metrics).doesNotContainPattern("mlserver_requests_total\\{[^}]*route=\"(?!predict\"|predict_proba\"|ready\"|describe\")");
    }

    @Test
    void theAccessLineCarriesTheMatchedRoutesName() {
        gateway.send(java.net.http.HttpRequest.newBuilder(gateway.uri("/ready")).header("X-Request-Id", "label-ready-1")
                .GET().build());
        // a gateway route that is not a probe (probes are not access-logged by default)
        gateway.send(java.net.http.HttpRequest.newBuilder(gateway.uri("/classifiers")).header("X-Request-Id", "label-list-1")
                .GET().build());
        await().atMost(Duration.ofSeconds(30)).until(() -> line("label-ready-1").isPresent() && line("label-list-1").isPresent());
        assertThat(value(line("label-ready-1").orElseThrow(), "route")).isEqualTo("describe");
        assertThat(value(line("label-ready-1").orElseThrow(), "classifier")).isEqualTo("ready");
        assertThat(value(line("label-list-1").orElseThrow(), "route")).isEqualTo("classifiers");
    }

    private static String classifier(String request) {
        return request.split(" ")[1].split("/")[1];
    }

    private static long occurrences(Map<String, String> asked, String classifier, String route) {
        return asked.entrySet().stream().filter(e -> classifier(e.getKey()).equals(classifier) && e.getValue().equals(route))
                .count();
    }

    /** The sum of {@code mlserver_requests_total} of one classifier and route over its statuses. */
    private static double count(String classifier, String route) {
        Matcher m = Pattern.compile("(?m)^mlserver_requests_total\\{classifier=\"" + Pattern.quote(classifier)
                + "\",protocol=\"native\",route=\"" + Pattern.quote(route) + "\",status=\"\\d+\",version=\"[^\"]+\"} (\\S+)$")
                .matcher(gateway.get("/metrics").body());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    private static Optional<ILoggingEvent> line(String requestId) {
        List<ILoggingEvent> events;
        synchronized (lines) {
            events = new ArrayList<>(lines.list);
        }
        return events.stream().filter(e -> requestId.equals(value(e, "request_id"))).findFirst();
    }

    private static String value(ILoggingEvent event, String key) {
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs == null) {
            return null;
        }
        return pairs.stream().filter(p -> p.key.equals(key)).map(p -> String.valueOf(p.value)).findFirst().orElse(null);
    }
}
