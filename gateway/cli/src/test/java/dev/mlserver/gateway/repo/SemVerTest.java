package dev.mlserver.gateway.repo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SemVerTest {
    @Test
    void semanticVersionsBumpAndOrderAsSemverSays() {
        SemVer v = SemVer.parse("1.4.2").orElseThrow();
        assertThat(v.bump(SemVer.Part.MAJOR)).hasToString("2.0.0");
        assertThat(v.bump(SemVer.Part.MINOR)).hasToString("1.5.0");
        assertThat(v.bump(SemVer.Part.PATCH)).hasToString("1.4.3");
        assertThat(SemVer.parse("1.5.0-rc.1").orElseThrow().bump(SemVer.Part.MINOR)).hasToString("1.5.0");
        assertThat(SemVer.parse("1.10.0").orElseThrow()).isGreaterThan(SemVer.parse("1.9.0").orElseThrow());
        assertThat(SemVer.parse("1.0.0-rc.10").orElseThrow()).isGreaterThan(SemVer.parse("1.0.0-rc.9").orElseThrow());
        assertThat(SemVer.parse("1.0.0").orElseThrow()).isGreaterThan(SemVer.parse("1.0.0-rc.9").orElseThrow());
        assertThat(SemVer.parse("1.0")).isEmpty();
        assertThat(SemVer.parse("01.0.0")).isEmpty();
    }
}
