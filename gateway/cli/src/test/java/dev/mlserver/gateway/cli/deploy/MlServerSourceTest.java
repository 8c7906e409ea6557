package dev.mlserver.gateway.cli.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The source a generated workflow builds ml_server from, as the build stamped it. */
class MlServerSourceTest {
    @Test
    void anHttpsRemoteIsKeptWithoutItsCredentials() {
        assertThat(MlServerSource.cloneable("https://ci:s3cret@github.com/acme/mlserver.git")).isEqualTo("https://github.com/acme/mlserver.git");
        assertThat(MlServerSource.cloneable("https://git.example.org:8443/ml/mlserver")).isEqualTo("https://git.example.org:8443/ml/mlserver");
    }

    @Test
    void anSshRemoteBecomesItsHttpsForm() {
        assertThat(MlServerSource.cloneable("git@github.com:acme/mlserver.git")).isEqualTo("https://github.com/acme/mlserver.git");
        assertThat(MlServerSource.cloneable("ssh://git@gitlab.example.org:2222/ml/mlserver.git")).isEqualTo("https://gitlab.example.org/ml/mlserver.git");
    }

    @Test
    void aPathOnThisMachineOrNoRemoteIsUnknown() {
        assertThat(MlServerSource.cloneable("/work/mlserver")).isEmpty();
        assertThat(MlServerSource.cloneable("file:///work/mlserver")).isEmpty();
        assertThat(MlServerSource.cloneable("${git.remote.origin.url}")).isEmpty();
        assertThat(MlServerSource.cloneable("Unknown")).isEmpty();
    }

    @Test
    void aStampLeftUnfilledByABuildWithoutGitHasNoCommit() {
        MlServerSource source = MlServerSource.fromStamp("${git.remote.origin.url}", "${git.commit.id}", false);
        assertThat(source.url()).isEmpty();
        assertThat(source.ref()).isEmpty();
        assertThat(MlServerSource.fromStamp("", "795e7ed19e43e5b9ae89ebeeb068c2985d658b0b", true).ref())
                .contains("795e7ed19e43e5b9ae89ebeeb068c2985d658b0b");
    }
}
