package dev.mlserver.gateway.cli.deploy;

import dev.mlserver.gateway.repo.ClassifierModule;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mlserver.gateway.config.ConfigException;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.config.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Kubernetes and Istio manifests for one classifier: per version a Deployment
 * ({@code <classifier>-v<version-with-dashes>}) and a PodDisruptionBudget, one Service, and for a
 * canary an Istio DestinationRule (a subset per version) and VirtualService (weights summing to 100).
 */
public final class KubernetesManifests {
    /** Versions as classifiers write them: semver, optionally with a pre-release part. */
    public static final Pattern VERSION = Pattern.compile("[0-9]+\\.[0-9]+\\.[0-9]+(?:-[0-9A-Za-z.-]+)?");
    /**
     * After SIGTERM the gateway keeps serving this long, readiness 503 and every answer with
     * {@code Connection: close}, while Kubernetes takes the pod out of the Service's endpoints.
     * Set by the gateway itself, not by a preStop hook: the image may have no shell and no
     * {@code sleep} (the jlink'd base of {@code ml_server base-image} has neither).
     */
    public static final long GRACE_PERIOD_MS = 5_000;
    /** Then running predictions get this long to finish and be answered: the gateway's default. */
    public static final long DRAIN_TIMEOUT_MS = GatewayConfig.Lifecycle.DEFAULT_DRAIN_TIMEOUT_MS;
    /**
     * Longer than the gateway's own limit on a stop (grace, drain, and the margin after which it
     * halts itself), with 5 s to spare: the kubelet's SIGKILL never cuts a drain short.
     */
    public static final int TERMINATION_GRACE_SECONDS =
            (int) (GatewayConfig.Lifecycle.shutdownLimitMs(GRACE_PERIOD_MS, DRAIN_TIMEOUT_MS) / 1000) + 5;

    /**
     * @param registry prefix of image names, e.g. {@code registry.example.com/ml}
     * @param replicas pods per version
     */
    public record Options(String registry, int replicas) {
        public Options {
            if (replicas < 1) {
                throw new DeployException("--replicas must be at least 1");
            }
        }
    }

    /** One manifest file: its name under the output directory and its YAML. */
    public record Manifest(String file, String kind, String name, String yaml) {}

    private KubernetesManifests() {}

    /**
     * @param stable the version serving now
     * @param canary a new version taking {@code weight} percent of the traffic
     */
    public static List<Manifest> forClassifier(ClassifierModule module, String stable, Optional<String> canary, int weight,
            Options options) {
        checkVersion(stable);
        canary.ifPresent(KubernetesManifests::checkVersion);
        if (canary.isPresent() && canary.get().equals(stable)) {
            throw new DeployException("the canary version " + stable + " is the stable version: pass --stable OLD_VERSION");
        }
        if (weight < 0 || weight > 100) {
            throw new DeployException("--weight must be between 0 and 100, got " + weight);
        }
        int maxConcurrent = maxConcurrentPredictions(module);
        String image = options.registry().replaceAll("/+$", "") + "/" + ImagePlanner.imageName(module.repository(), module.name());
        List<Manifest> manifests = new ArrayList<>();
        List<String> versions = canary.map(c -> List.of(stable, c)).orElse(List.of(stable));
        for (String version : versions) {
            manifests.add(deployment(module, version, image + ":" + version, maxConcurrent, options.replicas()));
            manifests.add(disruptionBudget(module, version));
        }
        manifests.add(service(module, canary.isPresent() ? Optional.empty() : Optional.of(stable)));
        if (canary.isPresent()) {
            manifests.add(destinationRule(module, versions));
            manifests.add(virtualService(module, stable, canary.get(), weight));
        }
        return manifests;
    }

    /** {@code <classifier>-v1-2-3}. */
    public static String deploymentName(String classifier, String version) {
        return classifier + "-" + subset(version);
    }

    /** {@code v1-2-3}: a DNS label for names and Istio subsets. */
    public static String subset(String version) {
        return "v" + version.toLowerCase().replaceAll("[^a-z0-9]+", "-");
    }

    /** The {@code version} label: {@code v1.2.3}. */
    public static String versionLabel(String version) {
        return "v" + version;
    }

    /** Every manifest as one multi-document YAML stream. */
    public static String stream(List<Manifest> manifests) {
        StringBuilder out = new StringBuilder();
        for (Manifest m : manifests) {
            out.append("---\n").append(m.yaml());
        }
        return out.toString();
    }

    private static void checkVersion(String version) {
        if (version == null || !VERSION.matcher(version).matches() || deploymentName("x", version).length() > 63) {
            throw new DeployException("'" + version + "' is not a classifier version such as 1.2.3");
        }
    }

    private static int maxConcurrentPredictions(ClassifierModule module) {
        try {
            String yaml = Files.readString(module.dir().resolve("mlserver.yaml"));
            JsonNode limit = ConfigLoader.parseTree(yaml, module.dir().resolve("mlserver.yaml").toString())
                    .path("limits").path("max_concurrent_predictions");
            return limit.canConvertToInt() && limit.asInt() > 0 ? limit.asInt() : Limits.DEFAULT_MAX_CONCURRENT_PREDICTIONS;
        } catch (IOException e) {
            throw new DeployException("cannot read " + module.dir().resolve("mlserver.yaml") + ": " + e.getMessage(), e);
        } catch (ConfigException e) {
            throw new DeployException(e.getMessage(), e);
        }
    }

    private static Manifest deployment(ClassifierModule m, String version, String image, int maxConcurrent, int replicas) {
        Map<String, Object> selector = map("app", m.name(), "version", versionLabel(version));
        Map<String, Object> labels = new LinkedHashMap<>(selector);
        labels.put("app.kubernetes.io/name", m.name());
        labels.put("app.kubernetes.io/version", version);
        labels.put("app.kubernetes.io/part-of", m.repository());

        Map<String, Object> container = new LinkedHashMap<>();
        container.put("name", "classifier");
        container.put("image", image);
        container.put("imagePullPolicy", "IfNotPresent");
        container.put("ports", List.of(map("name", "http", "containerPort", 8000, "protocol", "TCP")));
        container.put("env", List.of(
                map("name", "MAX_CONCURRENT_PREDICTIONS", "value", String.valueOf(maxConcurrent)),
                map("name", ConfigLoader.SHUTDOWN_GRACE_PERIOD_ENV, "value", String.valueOf(GRACE_PERIOD_MS)),
                map("name", ConfigLoader.SHUTDOWN_DRAIN_TIMEOUT_ENV, "value", String.valueOf(DRAIN_TIMEOUT_MS))));
        container.put("resources", map(
                "requests", map("cpu", "500m", "memory", "512Mi"),
                "limits", map("cpu", "1", "memory", "1Gi")));
        container.put("startupProbe", probe("/health/live", 2, 60));
        container.put("readinessProbe", probe("/health/ready", 5, 3));
        container.put("livenessProbe", probe("/health/live", 10, 3));
        container.put("securityContext", map(
                "allowPrivilegeEscalation", false,
                "readOnlyRootFilesystem", true,
                "capabilities", map("drop", List.of("ALL"))));
        container.put("volumeMounts", List.of(map("name", "tmp", "mountPath", "/tmp")));

        Map<String, Object> podSpec = new LinkedHashMap<>();
        podSpec.put("automountServiceAccountToken", false);
        podSpec.put("terminationGracePeriodSeconds", TERMINATION_GRACE_SECONDS);
        podSpec.put("securityContext", map(
                "runAsNonRoot", true,
                "runAsUser", 10001,
                "runAsGroup", 10001,
                "seccompProfile", map("type", "RuntimeDefault")));
        podSpec.put("containers", List.of(container));
        // plugin jar copies and ONNX Runtime's native library go to /tmp: the only writable place
        podSpec.put("volumes", List.of(map("name", "tmp", "emptyDir", map("sizeLimit", "512Mi"))));

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", "apps/v1");
        doc.put("kind", "Deployment");
        doc.put("metadata", map("name", deploymentName(m.name(), version), "labels", labels));
        doc.put("spec", map(
                "replicas", replicas,
                "selector", map("matchLabels", new LinkedHashMap<>(selector)),
                "template", map(
                        "metadata", map("labels", new LinkedHashMap<>(labels), "annotations", map(
                                "prometheus.io/scrape", "true", "prometheus.io/port", "8000", "prometheus.io/path", "/metrics")),
                        "spec", podSpec)));
        String header = "# " + m.name() + " " + version + ": image pinned by version, never latest.\n"
                + "# Shutdown (docs/hot-reload.md): after SIGTERM the gateway serves on for " + GRACE_PERIOD_MS / 1000
                + " s while the endpoint\n# leaves the Service, then drains running predictions for up to "
                + DRAIN_TIMEOUT_MS / 1000 + " s, and halts itself\n# " + GatewayConfig.Lifecycle.SHUTDOWN_MARGIN_MS / 1000
                + " s after that at the latest. terminationGracePeriodSeconds (" + TERMINATION_GRACE_SECONDS
                + ") covers all\n# three: raise it with either variable. No preStop hook: the image may have no shell "
                + "or sleep.\n";
        return manifest(doc, header);
    }

    private static Map<String, Object> probe(String path, int period, int failures) {
        return map("httpGet", map("path", path, "port", "http"), "periodSeconds", period, "timeoutSeconds", 2,
                "failureThreshold", failures);
    }

    private static Manifest disruptionBudget(ClassifierModule m, String version) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", "policy/v1");
        doc.put("kind", "PodDisruptionBudget");
        doc.put("metadata", map("name", deploymentName(m.name(), version), "labels", map("app", m.name(), "version", versionLabel(version))));
        doc.put("spec", map("minAvailable", 1, "selector", map("matchLabels", map("app", m.name(), "version", versionLabel(version)))));
        return manifest(doc, "# Voluntary disruptions (node drains) keep at least one " + m.name() + " " + version + " pod.\n");
    }

    private static Manifest service(ClassifierModule m, Optional<String> pinned) {
        Map<String, Object> selector = new LinkedHashMap<>();
        selector.put("app", m.name());
        pinned.ifPresent(v -> selector.put("version", versionLabel(v)));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", "v1");
        doc.put("kind", "Service");
        doc.put("metadata", map("name", m.name(), "labels", map("app", m.name())));
        doc.put("spec", map("selector", selector,
                "ports", List.of(map("name", "http", "port", 8000, "targetPort", "http", "protocol", "TCP"))));
        String header = pinned.isPresent()
                ? "# Pinned to one version; during a canary the Service selects every version and Istio splits.\n"
                : "# Selects every version of " + m.name() + "; the VirtualService splits traffic between them.\n";
        return manifest(doc, header);
    }

    private static Manifest destinationRule(ClassifierModule m, List<String> versions) {
        List<Object> subsets = new ArrayList<>();
        for (String v : versions) {
            subsets.add(map("name", subset(v), "labels", map("version", versionLabel(v))));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", "networking.istio.io/v1");
        doc.put("kind", "DestinationRule");
        doc.put("metadata", map("name", m.name()));
        doc.put("spec", map("host", m.name(), "subsets", subsets));
        return manifest(doc, "# One subset per version of " + m.name() + ".\n");
    }

    private static Manifest virtualService(ClassifierModule m, String stable, String canary, int weight) {
        List<Object> route = List.of(
                map("destination", map("host", m.name(), "subset", subset(stable), "port", map("number", 8000)), "weight", 100 - weight),
                map("destination", map("host", m.name(), "subset", subset(canary), "port", map("number", 8000)), "weight", weight));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", "networking.istio.io/v1");
        doc.put("kind", "VirtualService");
        doc.put("metadata", map("name", m.name()));
        doc.put("spec", map("hosts", List.of(m.name()), "http", List.of(map("route", route))));
        return manifest(doc, "# Canary: " + (100 - weight) + " % to " + stable + ", " + weight + " % to " + canary
                + ". Raise the weight step by step; responses name the version that answered.\n");
    }

    private static Manifest manifest(Map<String, Object> doc, String header) {
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) doc.get("metadata");
        String kind = (String) doc.get("kind");
        String name = (String) metadata.get("name");
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setIndicatorIndent(2);
        options.setIndentWithIndicator(true);
        options.setWidth(120);
        String yaml = header + new Yaml(options).dump(doc);
        return new Manifest(name + "." + kind.toLowerCase() + ".yaml", kind, name, yaml);
    }

    /** An ordered map of key/value pairs. */
    private static Map<String, Object> map(Object... pairs) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put((String) pairs[i], pairs[i + 1]);
        }
        return map;
    }
}
