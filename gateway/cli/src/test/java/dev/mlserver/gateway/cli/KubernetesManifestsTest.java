package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mlserver.gateway.cli.deploy.ImageConfig;
import dev.mlserver.gateway.config.ConfigLoader;
import dev.mlserver.gateway.config.GatewayConfig;
import dev.mlserver.gateway.testing.Cli;
import dev.mlserver.gateway.testing.TypedManifests;
import io.fabric8.istio.api.api.networking.v1alpha3.HTTPRouteDestination;
import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.networking.v1.VirtualService;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ml_server k8s} output parsed into fabric8's typed Kubernetes and Istio models. */
class KubernetesManifestsTest {
    /** The repository root: the gateway module's parent, where the example family lives. */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent().getParent();

    @Test
    void canaryPrintsDeploymentsForBothVersionsAServiceAndAVirtualServiceSplitting90To10() {
        List<HasMetadata> manifests = k8s("--classifier", "iris", "--canary", "1.1.0", "--weight", "10");

        assertThat(TypedManifests.ofType(manifests, Deployment.class)).extracting(d -> d.getMetadata().getName())
                .containsExactly("iris-v1-0-0", "iris-v1-1-0");
        assertThat(TypedManifests.ofType(manifests, Service.class)).hasSize(1);
        assertThat(TypedManifests.ofType(manifests, PodDisruptionBudget.class)).hasSize(2);
        DestinationRule rule = TypedManifests.ofType(manifests, DestinationRule.class).get(0);
        assertThat(rule.getSpec().getSubsets()).extracting(s -> s.getName()).containsExactly("v1-0-0", "v1-1-0");
        assertThat(rule.getSpec().getSubsets()).extracting(s -> s.getLabels().get("version")).containsExactly("v1.0.0", "v1.1.0");

        VirtualService vs = TypedManifests.ofType(manifests, VirtualService.class).get(0);
        List<HTTPRouteDestination> route = vs.getSpec().getHttp().get(0).getRoute();
        assertThat(route).extracting(HTTPRouteDestination::getWeight).containsExactly(90, 10);
        assertThat(route.stream().mapToInt(HTTPRouteDestination::getWeight).sum()).isEqualTo(100);
        assertThat(route).extracting(r -> r.getDestination().getSubset()).containsExactly("v1-0-0", "v1-1-0");
    }

    @Test
    void canaryServiceSelectsEveryVersionWhileAPlainServiceIsPinnedToOne() {
        Service canary = TypedManifests.ofType(k8s("--classifier", "iris", "--canary", "1.1.0"), Service.class).get(0);
        Service plain = TypedManifests.ofType(k8s("--classifier", "iris"), Service.class).get(0);

        assertThat(canary.getSpec().getSelector()).containsOnlyKeys("app");
        assertThat(plain.getSpec().getSelector()).containsEntry("app", "iris").containsEntry("version", "v1.0.0");
    }

    @Test
    void deploymentIsPinnedProbedAndLockedDown() {
        Deployment d = TypedManifests.ofType(k8s("--classifier", "iris", "--registry", "reg.example/ml"), Deployment.class).get(0);
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().get(0);

        assertThat(d.getMetadata().getLabels()).containsEntry("app", "iris").containsEntry("version", "v1.0.0");
        assertThat(c.getImage()).isEqualTo("reg.example/ml/mlserver-examples-iris:1.0.0");
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("MAX_CONCURRENT_PREDICTIONS");
            assertThat(Integer.parseInt(e.getValue())).isPositive();
        });
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKeys("cpu", "memory");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
        assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getEmptyDir()).isNotNull());
    }

    @Test
    void theKubeletWaitsLongerThanTheGatewaysOwnShutdownAndNoHookRunsACommandOfTheImage() {
        Deployment d = TypedManifests.ofType(k8s("--classifier", "iris"), Deployment.class).get(0);
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().get(0);
        Map<String, String> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        // the image's own gateway config, read as the gateway reads it, with the pod's environment over it
        GatewayConfig config = ConfigLoader.create(env).fromYaml(ImageConfig.yaml(), "the image's gateway.yaml");
        GatewayConfig.Lifecycle shutdown = config.lifecycle();
        long killAfterMs = pod.getTerminationGracePeriodSeconds() * 1000;

        assertThat(shutdown.gracePeriodMs()).as("serving on while the endpoint leaves the Service").isGreaterThanOrEqualTo(5_000);
        assertThat(shutdown.drainTimeoutMs()).as("a prediction admitted last may run to its timeout")
                .isGreaterThanOrEqualTo(config.limits().timeoutMs());
        assertThat(killAfterMs).as("SIGKILL only after grace %d + drain %d ms", shutdown.gracePeriodMs(), shutdown.drainTimeoutMs())
                .isGreaterThan(shutdown.gracePeriodMs() + shutdown.drainTimeoutMs());
        assertThat(killAfterMs).as("and after the gateway would have halted itself").isGreaterThan(shutdown.shutdownLimitMs());
        // the image may have no shell and no sleep (ml_server base-image's has neither): nothing is exec'd in it
        assertThat(c.getLifecycle()).as("no preStop hook: the gateway's grace period does its work").isNull();
        assertThat(Stream.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe()))
                .allSatisfy(p -> assertThat(p.getExec()).isNull());
    }

    @Test
    void anUnknownFieldFailsTheTypedCheck() {
        String yaml = Cli.run("k8s", "--repo", ROOT.toString(), "--classifier", "iris").out()
                .replace("automountServiceAccountToken: false", "automountServiceAccountToken: false\n      autoMountToken: false");

        assertThatThrownBy(() -> TypedManifests.parse(yaml)).hasMessageContaining("autoMountToken");
    }

    @Test
    void weightOutsideZeroToHundredIsAUsageError() {
        Cli.Result result = Cli.run("k8s", "--repo", ROOT.toString(), "--classifier", "iris", "--canary", "1.1.0", "--weight", "110");

        assertThat(result.exit()).isEqualTo(2);
        assertThat(result.err()).contains("--weight");
    }

    @Test
    void canaryOfTheStableVersionIsRefused() {
        Cli.Result result = Cli.run("k8s", "--repo", ROOT.toString(), "--classifier", "iris", "--canary", "1.0.0");

        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("--stable");
    }

    @Test
    void canaryInAFamilyNeedsTheClassifierNamed(@TempDir Path repo) throws IOException {
        module(repo, "classifiers/sentiment", "2.3.1");
        module(repo, "classifiers/intent", "1.0.0");

        Cli.Result all = Cli.run("k8s", "--repo", repo.toString());
        Cli.Result canary = Cli.run("k8s", "--repo", repo.toString(), "--canary", "2.4.0");

        assertThat(TypedManifests.ofType(TypedManifests.parse(all.out()), Deployment.class))
                .extracting(d -> d.getMetadata().getName()).containsExactly("intent-v1-0-0", "sentiment-v2-3-1");
        assertThat(canary.exit()).isEqualTo(2);
        assertThat(canary.err()).contains("--classifier");
    }

    @Test
    void committedManifestsAreWhatTheGeneratorWrites(@TempDir Path out) throws IOException {
        assertThat(Cli.run("k8s", "--repo", ROOT.toString(), "-o", out.resolve("plain").toString()).exit()).isZero();
        assertThat(Cli.run("k8s", "--repo", ROOT.toString(), "--classifier", "iris", "--canary", "1.1.0", "--weight", "10",
                "-o", out.resolve("canary").toString()).exit()).isZero();

        assertSameFiles(out.resolve("plain"), ROOT.resolve("docker/k8s"));
        assertSameFiles(out.resolve("canary"), ROOT.resolve("docker/k8s/canary-example"));
    }

    private static void assertSameFiles(Path generated, Path committed) throws IOException {
        try (Stream<Path> files = Files.list(generated)) {
            for (Path f : files.toList()) {
                assertThat(committed.resolve(f.getFileName())).as("regenerate with ml_server k8s").hasSameTextualContentAs(f);
            }
        }
        try (Stream<Path> files = Files.list(committed)) {
            assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(Files.list(generated).count());
        }
    }

    private static List<HasMetadata> k8s(String... args) {
        String[] all = Stream.concat(Stream.of("k8s", "--repo", ROOT.toString()), Stream.of(args)).toArray(String[]::new);
        Cli.Result result = Cli.run(all);
        assertThat(result.exit()).as(result.err()).isZero();
        return TypedManifests.parse(result.out());
    }

    static void module(Path repo, String path, String version) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(path));
        String name = dir.getFileName().toString();
        Files.writeString(dir.resolve("pom.xml"), """
                <project><modelVersion>4.0.0</modelVersion><groupId>acme</groupId>
                  <artifactId>%s</artifactId><version>%s</version></project>
                """.formatted(name, version));
        Files.writeString(dir.resolve("mlserver.yaml"), "name: " + name + "\nlimits:\n  max_concurrent_predictions: 3\n");
    }
}
