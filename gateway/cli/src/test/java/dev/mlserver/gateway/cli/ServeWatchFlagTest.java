package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code serve --watch} and {@code --no-watch} override {@code plugins.watch}; absent, the config decides. */
class ServeWatchFlagTest {
    private static ServeCommand parse(String... args) {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs(args);
        return serve;
    }

    @Test
    void watchAndNoWatchAreParsedAndAbsentMeansTheConfigDecides() {
        assertThat(parse("--watch").watch).isTrue();
        assertThat(parse("--no-watch").watch).isFalse();
        assertThat(parse().watch).isNull();
    }

    @Test
    void theHelpNamesBothSpellings() {
        String usage = new CommandLine(new ServeCommand()).getUsageMessage();
        assertThat(usage).contains("--[no-]watch");
    }
}
