package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.StreamSupport;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "test",
        mixinStandardHelpOptions = true,
        description = "Send a request to a classifier of a running gateway (its own example by default) and show the answer and its metadata.",
        footer = {"", "Examples:",
            "  ml_server test iris",
            "  ml_server test iris --data '{\"payload\": [6.7, 3.0, 5.2, 2.3]}' --proba",
            "  ml_server test iris --file request.json --url http://10.0.0.5:8000 --json",
            "", "Exit codes: 0 answered 200, 1 any other answer or no gateway, 2 usage."})
final class TestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CLASSIFIER", description = "the classifier's name")
    String classifier;

    @ArgGroup(exclusive = true)
    Body body;

    static final class Body {
        @Option(names = "--data", paramLabel = "JSON", description = "the request body")
        String data;

        @Option(names = "--file", paramLabel = "FILE", description = "a file holding the request body")
        Path file;
    }

    @Option(names = "--proba", description = "call predict_proba instead of predict")
    boolean proba;

    @Option(names = "--json", description = "print {url, status, request, response} as JSON")
    boolean json;

    @Mixin
    RemoteOptions remote;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Optional<String> given = givenBody();
        GatewayClient client = remote.client(spec);
        GatewayClient.Reply listing = client.get("/classifiers");
        if (listing.status() == 401 || listing.status() == 403) {
            throw new ToolException(GatewayClient.authHint(listing));
        }
        JsonNode routes = findRoutes(listing);
        if (routes == null) {
            throw new ToolException(client.uri("/") + " serves no classifier named '" + classifier
                    + "'; it serves: " + served(listing));
        }
        String request = given.isPresent() ? given.get() : example(client, routes);
        String path = routes.path(proba ? "predict_proba" : "predict").asText();
        GatewayClient.Reply reply = client.post(path, request);
        if (json) {
            printJson(out, client, path, request, reply);
        } else {
            printHuman(out, client, path, request, reply);
        }
        return reply.status() == 200 ? 0 : 1;
    }

    private Optional<String> givenBody() {
        if (body == null) {
            return Optional.empty();
        }
        String text;
        String what;
        if (body.data != null) {
            text = body.data;
            what = "--data";
        } else {
            try {
                text = Files.readString(body.file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "cannot read --file " + body.file + ": " + e.getMessage());
            }
            what = "--file " + body.file;
        }
        try {
            GatewayClient.JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), what + " is not JSON: " + e.getOriginalMessage());
        }
        return Optional.of(text);
    }

    private JsonNode findRoutes(GatewayClient.Reply listing) {
        return listing.json().map(j -> j.path("classifiers")).stream()
                .flatMap(list -> StreamSupport.stream(list.spliterator(), false))
                .filter(c -> classifier.equals(c.path("name").asText()))
                .map(c -> c.path("routes"))
                .findFirst().orElse(null);
    }

    private static String served(GatewayClient.Reply listing) {
        return listing.json().map(j -> j.path("classifiers")).stream()
                .flatMap(list -> StreamSupport.stream(list.spliterator(), false))
                .map(c -> c.path("name").asText()).toList().toString();
    }

    /** The classifier's own example, from GET /&lt;classifier&gt;. */
    private String example(GatewayClient client, JsonNode routes) {
        String predict = routes.path("predict").asText();
        String describe = predict.substring(0, predict.length() - "/predict".length());
        GatewayClient.Reply reply = client.get(describe);
        JsonNode example = reply.json().map(j -> j.get("example")).orElse(null);
        if (!reply.ok() || example == null) {
            throw new ToolException("GET " + describe + " gave no example (" + reply.error() + "); pass --data or --file");
        }
        return example.toString();
    }

    private void printJson(PrintWriter out, GatewayClient client, String path, String request, GatewayClient.Reply reply) {
        ObjectNode envelope = GatewayClient.JSON.createObjectNode();
        envelope.put("url", client.uri(path).toString());
        envelope.put("status", reply.status());
        envelope.put("round_trip_ms", Math.round(reply.millis() * 1000) / 1000.0);
        try {
            envelope.set("request", GatewayClient.JSON.readTree(request));
        } catch (IOException e) {
            envelope.put("request", request);
        }
        if (reply.json().isPresent()) {
            envelope.set("response", reply.json().get());
        } else {
            envelope.put("response", reply.body());
        }
        out.println(envelope.toPrettyString());
    }

    private void printHuman(PrintWriter out, GatewayClient client, String path, String request, GatewayClient.Reply reply) {
        out.printf("POST %s -> %d in %.1f ms%n%n", client.uri(path), reply.status(), reply.millis());
        out.println("request");
        out.println(indent(pretty(request)));
        out.println();
        JsonNode answer = reply.json().orElse(null);
        if (reply.status() != 200 || answer == null) {
            out.println("error");
            out.println("  " + reply.error());
        } else {
            out.println("predictions");
            for (JsonNode p : answer.path("predictions")) {
                out.println("  " + (p.isTextual() ? p.asText() : probabilities(p)));
            }
            if (answer.has("time_ms")) {
                out.printf("  (%s ms in the gateway)%n", answer.get("time_ms").asText());
            }
        }
        JsonNode metadata = answer == null ? null : answer.get("metadata");
        if (metadata != null && metadata.isObject()) {
            out.println();
            out.println("metadata");
            int width = 0;
            for (Map.Entry<String, JsonNode> e : metadata.properties()) {
                width = Math.max(width, e.getKey().length());
            }
            for (Map.Entry<String, JsonNode> e : metadata.properties()) {
                JsonNode v = e.getValue();
                out.printf("  %-" + width + "s  %s%n", e.getKey(), v.isNull() ? "-" : v.isValueNode() ? v.asText() : v.toString());
            }
        }
        out.flush();
    }

    private static String probabilities(JsonNode p) {
        StringBuilder s = new StringBuilder();
        p.properties().stream()
                .sorted((a, b) -> Double.compare(b.getValue().asDouble(), a.getValue().asDouble()))
                .forEach(e -> s.append(s.length() == 0 ? "" : "  ").append(e.getKey()).append(' ')
                        .append(String.format(java.util.Locale.ROOT, "%.4f", e.getValue().asDouble())));
        return s.toString();
    }

    private static String pretty(String json) {
        try {
            return GatewayClient.JSON.readTree(json).toPrettyString();
        } catch (IOException e) {
            return json;
        }
    }

    private static String indent(String text) {
        return "  " + text.replace("\n", "\n  ");
    }
}
