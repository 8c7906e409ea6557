package dev.mlserver.gateway;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The runtime's packages form a graph without cycles: the root package is the shared vocabulary
 * every layer may use, {@code server} composes the rest, and no lower layer reaches up.
 */
class PackageGraphTest {
    private static JavaClasses runtime;

    @BeforeAll
    static void importTheRuntime() {
        runtime = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("dev.mlserver.gateway");
    }

    @Test
    void thePackagesAreFreeOfCycles() {
        slices().matching("dev.mlserver.gateway.(*)..").should().beFreeOfCycles().check(runtime);
    }

    @Test
    void theRootPackageHoldsOnlyTheSharedVocabulary() {
        noClasses().that().resideInAPackage("dev.mlserver.gateway")
                .should().dependOnClassesThat().resideInAPackage("dev.mlserver.gateway.*..")
                .check(runtime);
    }

    @Test
    void openingAPluginNeedsNoVertxAndNoServingMachinery() {
        // validate and doctor open jars with the loader alone; serving wraps them in bulkheads
        noClasses().that().resideInAPackage("dev.mlserver.gateway.plugin..")
                .should().dependOnClassesThat().resideInAnyPackage("io.vertx..", "io.netty..",
                        "dev.mlserver.gateway.bulkhead..", "dev.mlserver.gateway.registry..",
                        "dev.mlserver.gateway.http..", "dev.mlserver.gateway.metrics..")
                .check(runtime);
    }

    @Test
    void onlyTheServerPackageComposesTheGateway() {
        noClasses().that().resideOutsideOfPackage("dev.mlserver.gateway.server..")
                .should().dependOnClassesThat().resideInAPackage("dev.mlserver.gateway.server..")
                .check(runtime);
    }
}
