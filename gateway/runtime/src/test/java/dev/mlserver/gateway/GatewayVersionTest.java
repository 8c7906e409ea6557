package dev.mlserver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The gateway's version is the one the build was given, not a literal in the code. */
class GatewayVersionTest {
    @Test
    void theVersionIsTheParentPomsVersion() throws IOException {
        String pom = Files.readString(Path.of("..", "..", "pom.xml"));
        Matcher version = Pattern.compile("<mlserver\\.version>([^<]+)</mlserver\\.version>").matcher(pom);
        assertThat(version.find()).as("<mlserver.version> in the parent pom").isTrue();
        assertThat(GatewayVersion.current()).isEqualTo(version.group(1));
    }
}
