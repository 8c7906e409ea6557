package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.repo.ToolException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status",
        mixinStandardHelpOptions = true,
        description = "Show what a running gateway serves: each classifier's version, git tag and commit, state, "
                + "in-flight and queued predictions against their limits, and the last minute's rate and latency.",
        footer = {"", "Examples:",
            "  ml_server status",
            "  ml_server status --url http://127.0.0.1:8271 --json",
            "", "Exit codes: 0 every plugin serves, 1 a plugin failed or no gateway, 2 usage."})
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "print the gateway's /status document")
    boolean json;

    @Mixin
    RemoteOptions remote;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        GatewayClient client = remote.client(spec);
        GatewayClient.Reply reply = client.get("/status");
        if (reply.status() == 401 || reply.status() == 403) {
            throw new ToolException(GatewayClient.authHint(reply));
        }
        JsonNode status = reply.json().orElse(null);
        if (!reply.ok() || status == null || !status.has("classifiers")) {
            throw new ToolException("GET " + client.uri("/status") + " answered " + reply.error());
        }
        if (json) {
            out.println(status.toPrettyString());
        } else {
            out.print(table(status));
        }
        out.flush();
        boolean failed = false;
        for (JsonNode p : status.path("plugins")) {
            failed |= p.path("state").asText().equals("failed");
        }
        return failed ? 1 : 0;
    }

    /** The table the console shows, as text. */
    static String table(JsonNode status) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"CLASSIFIER", "VERSION", "GIT TAG", "COMMIT", "STATE", "IN FLIGHT", "QUEUED", "REQ/S",
            "P50", "P99", "4XX/5XX"});
        for (JsonNode c : status.path("classifiers")) {
            JsonNode limits = c.path("limits");
            JsonNode minute = c.path("last_minute");
            rows.add(new String[] {
                c.path("name").asText(), c.path("version").asText(), text(c.path("git_tag")), text(c.path("git_commit")),
                c.path("state").asText(),
                c.path("in_flight").asInt() + "/" + limits.path("max_concurrent_predictions").asInt(),
                c.path("queued").asInt() + "/" + limits.path("max_queue").asInt(),
                String.format(Locale.ROOT, "%.2f", minute.path("rate_per_second").asDouble()),
                millis(minute.path("p50_ms")), millis(minute.path("p99_ms")),
                minute.path("client_errors").asLong() + "/" + minute.path("server_errors").asLong()});
        }
        List<String> notes = new ArrayList<>();
        for (JsonNode p : status.path("plugins")) {
            String state = p.path("state").asText();
            if (state.equals("ready")) {
                continue;
            }
            String name = p.path("classifier").isTextual() ? p.path("classifier").asText() : p.path("jar").asText();
            rows.add(new String[] {name, text(p.path("version")), "-", "-", state, "-", "-", "-", "-", "-", "-"});
            String reason = p.path("reason").isTextual() ? p.path("reason").asText() : "opening and warming up";
            notes.add("  " + p.path("jar").asText() + " " + state + ": " + reason);
        }
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder s = new StringBuilder();
        JsonNode gateway = status.path("gateway");
        s.append("mlserver ").append(gateway.path("version").asText())
                .append(gateway.path("draining").asBoolean() ? " (draining)" : "")
                .append(gateway.path("plugins_loaded").asBoolean(true) ? "" : " (loading plugins)")
                .append(", last ").append(gateway.path("window_seconds").asInt(60)).append(" s\n");
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(String.format("%-" + width[i] + "s", row[i])).append(i + 1 < row.length ? "  " : "");
            }
            s.append(line.toString().stripTrailing()).append('\n');
        }
        if (status.path("classifiers").isEmpty() && notes.isEmpty()) {
            s.append("(no classifier is served)\n");
        }
        if (!notes.isEmpty()) {
            s.append("\nplugins not serving:\n");
            notes.forEach(n -> s.append(n).append('\n'));
        }
        return s.toString();
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode() ? "-" : node.asText();
    }

    private static String millis(JsonNode node) {
        if (node == null || !node.isNumber()) {
            return "-";
        }
        double ms = node.asDouble();
        return String.format(Locale.ROOT, ms < 1 ? "%.3fms" : "%.1fms", ms);
    }
}
