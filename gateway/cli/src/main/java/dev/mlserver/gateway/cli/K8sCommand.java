package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.cli.deploy.KubernetesManifests;
import dev.mlserver.gateway.repo.ClassifierModule;
import dev.mlserver.gateway.repo.Repository;
import java.io.PrintWriter;
import java.nio.file.Path;
import dev.mlserver.gateway.repo.RepoException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "k8s",
        mixinStandardHelpOptions = true,
        description = {"Write Kubernetes manifests for each classifier version, printed or one file each with -o.",
            "Per version a Deployment <classifier>-v<version> and a PodDisruptionBudget, and a Service; with "
                + "--canary also an Istio DestinationRule and a VirtualService that splits traffic by weight."},
        footer = {"", "Examples:",
            "  ml_server k8s --registry registry.example.com/ml -o k8s/",
            "  ml_server k8s --classifier iris --canary 1.1.0 --weight 10",
            "  ml_server k8s --classifier iris --stable 1.0.0 --canary 1.1.0 --weight 50 \\",
            "      | kubectl apply -f -"})
final class K8sCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--classifier", paramLabel = "C", description = "only this classifier (default: every classifier of the repository)")
    String classifier;

    @Option(names = "--canary", paramLabel = "NEW_VERSION", description = "deploy this version beside the stable one and split traffic")
    String canary;

    @Option(names = "--weight", paramLabel = "N", description = "percent of traffic to the canary, 0-100 (default 10)")
    Integer weight;

    @Option(names = "--stable", paramLabel = "VERSION", description = "the version serving now (default: the module's version)")
    String stable;

    @Option(names = "--registry", paramLabel = "R", defaultValue = "registry.example.com",
            description = "where the images are (default: ${DEFAULT-VALUE})")
    String registry;

    @Option(names = "--replicas", paramLabel = "N", defaultValue = "2", description = "pods per version (default: ${DEFAULT-VALUE})")
    int replicas;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "write one file per manifest into DIR instead of printing")
    Path output;

    @Option(names = "--repo", paramLabel = "DIR", description = "the repository (default: found from the current directory)")
    Path repo;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (weight != null && canary == null) {
            throw new ParameterException(spec.commandLine(), "--weight goes with --canary");
        }
        if (stable != null && canary == null) {
            throw new ParameterException(spec.commandLine(), "--stable goes with --canary");
        }
        if (weight != null && (weight < 0 || weight > 100)) {
            throw new ParameterException(spec.commandLine(), "--weight must be between 0 and 100, got " + weight);
        }
        Repository repository = Repository.open(repo != null ? repo : Path.of(""));
        List<ClassifierModule> modules = classifier != null ? List.of(repository.require(classifier)) : repository.classifiers();
        if (modules.isEmpty()) {
            throw new RepoException("no classifier module in " + repository.root()
                    + " (a classifier module has mlserver.yaml beside its pom.xml)");
        }
        if (canary != null && modules.size() > 1) {
            throw new ParameterException(spec.commandLine(), "--canary needs --classifier: which classifier's canary?");
        }
        KubernetesManifests.Options options = new KubernetesManifests.Options(registry, replicas);
        List<KubernetesManifests.Manifest> manifests = new ArrayList<>();
        for (ClassifierModule m : modules) {
            String stableVersion = canary != null && stable != null ? stable : m.releaseVersion();
            manifests.addAll(KubernetesManifests.forClassifier(m, stableVersion, Optional.ofNullable(canary),
                    weight == null ? 10 : weight, options));
        }
        if (output == null) {
            out.print(KubernetesManifests.stream(manifests));
            out.flush();
            return 0;
        }
        for (KubernetesManifests.Manifest m : manifests) {
            TextFile.write(output.resolve(m.file()), m.yaml());
            out.println("wrote " + output.resolve(m.file()));
        }
        return 0;
    }
}
