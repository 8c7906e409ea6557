package dev.mlserver.gateway;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CLI's packages and the runtime's they use form a graph without cycles, and the runtime
 * never reaches into the tooling.
 */
class CliPackageGraphTest {
    private static JavaClasses gateway;

    @BeforeAll
    static void importTheCliAndTheRuntime() {
        gateway = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                // of the jars, only the runtime's (in a reactor build it arrives as a jar, its test fixtures too)
                .withImportOption(location -> !location.isJar()
                        || location.contains("gateway-runtime") && !location.contains("-tests.jar"))
                .importPackages("dev.mlserver.gateway");
    }

    @Test
    void theGraphHoldsTheRuntimeBesideTheCli() {
        assertThat(gateway.contain("dev.mlserver.gateway.server.Gateway")).isTrue();
        assertThat(gateway.contain("dev.mlserver.gateway.cli.MlServer")).isTrue();
        assertThat(gateway.contain("dev.mlserver.gateway.testing.TestGateway")).isFalse();
    }

    @Test
    void thePackagesAreFreeOfCycles() {
        slices().matching("dev.mlserver.gateway.(*)..").should().beFreeOfCycles().check(gateway);
    }

    @Test
    void theRuntimeNeverUsesTheTooling() {
        noClasses().that().resideOutsideOfPackages("dev.mlserver.gateway.cli..", "dev.mlserver.gateway.repo..",
                        "dev.mlserver.gateway.dev..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.mlserver.gateway.cli..",
                        "dev.mlserver.gateway.repo..", "dev.mlserver.gateway.dev..")
                .check(gateway);
    }
}
