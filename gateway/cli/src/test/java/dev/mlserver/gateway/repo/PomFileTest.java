package dev.mlserver.gateway.repo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PomFileTest {
    static final String POM = """
            <?xml version="1.0"?>
            <project>
              <!-- <version>9.9.9</version> in a comment is not the version -->
              <parent>
                <groupId>g</groupId>
                <artifactId>p</artifactId>
                <version>1.0.0</version>
              </parent>
              <dependencies>
                <dependency><groupId>g</groupId><artifactId>shared</artifactId><version>1.0.0</version></dependency>
              </dependencies>
              <artifactId>spam</artifactId>
              <version>0.1.0</version>
            </project>
            """;

    @Test
    void withVersionRewritesOnlyTheModulesOwnVersion() {
        PomFile pom = PomFile.parse(Path.of("pom.xml"), POM);
        String updated = pom.withVersion("0.2.0");
        assertThat(updated).isEqualTo(POM.replace("<version>0.1.0</version>", "<version>0.2.0</version>"));
        assertThat(PomFile.parse(Path.of("pom.xml"), updated).dependencies().get(0).version()).isEqualTo("1.0.0");
    }

    @Test
    void aModuleWithoutItsOwnVersionCannotBeBumped() {
        PomFile pom = PomFile.parse(Path.of("pom.xml"), POM.replace("  <version>0.1.0</version>\n", ""));
        assertThat(pom.version()).contains("1.0.0");
        assertThatThrownBy(() -> pom.withVersion("0.2.0")).isInstanceOf(RepoException.class)
                .hasMessageContaining("has no <version> of its own");
    }
}
