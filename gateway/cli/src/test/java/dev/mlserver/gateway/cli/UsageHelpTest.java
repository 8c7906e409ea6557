package dev.mlserver.gateway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mlserver.gateway.testing.Cli;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Every command's usage help, as {@code ml_server COMMAND -h} prints it, reads whole at 80
 * columns: a command's description is made of full sentences (its first one is its summary in
 * the command list, so it must stand alone); an option's description is a phrase that is not cut
 * off (no trailing comma or article, brackets and quotes closed); no word is split across lines;
 * no line is wider than 80 columns; and an example in a footer fits on its line unwrapped.
 */
class UsageHelpTest {
    /** Words a phrase cannot end with: it was cut off mid-sentence. */
    private static final Set<String> DANGLING = Set.of("a", "an", "the", "and", "or", "of", "than", "its", "their",
            "e.g.", "i.e.", "such");
    private static final Pattern SENTENCE_END = Pattern.compile(".*[.!?](\\)|`)?$", Pattern.DOTALL);

    @TestFactory
    Stream<DynamicTest> everyCommandsHelpReadsWholeAt80Columns() {
        return commands(MlServer.commandLine()).stream().map(command -> DynamicTest.dynamicTest(
                command.getCommandSpec().qualifiedName(), () -> check(command)));
    }

    @Test
    void theCommandListShowsEachCommandsWholeFirstSentence() {
        String usage = Cli.run("--help").out();
        for (CommandLine sub : MlServer.commandLine().getSubcommands().values()) {
            CommandLine.Model.UsageMessageSpec message = sub.getCommandSpec().usageMessage();
            String summary = (message.header().length > 0 ? message.header() : message.description())[0];
            assertThat(oneLine(section(usage, "Commands:"))).as("the summary of %s in the command list", sub.getCommandName())
                    .contains(sub.getCommandName() + " " + summary);
        }
    }

    @Test
    void dotsAndColonsInsideWordsAreNeverLineBreaks() {
        String usage = Cli.run("serve", "-h").out();
        assertThat(usage).contains("config/gateway.yaml").doesNotContain("\uE000").doesNotContain("\uE001");
        assertThat(Cli.run("test", "-h").out()).contains("http://127.0.0.1:8000");
    }

    private static void check(CommandLine command) {
        CommandSpec spec = command.getCommandSpec();
        String name = spec.qualifiedName();
        String usage = command.getUsageMessage(Ansi.OFF);
        List<String> lines = usage.lines().toList();
        for (String line : lines) {
            assertThat(line.length()).as("%s: line wider than %d columns: %s", name, UsageHelp.WIDTH, line)
                    .isLessThanOrEqualTo(UsageHelp.WIDTH);
        }
        assertThat(usage).as(name).doesNotContain("\uE000").doesNotContain("\uE001");
        if (spec.parent() != null) {
            Cli.Result dashH = Cli.run(path(spec).toArray());
            assertThat(dashH.exit()).as(name + " -h").isZero();
            assertThat(dashH.out()).as(name + " -h prints its usage").isEqualTo(usage);
            if (spec.findOption("-V") != null) {
                List<Object> dashV = path(spec);
                dashV.set(dashV.size() - 1, "-V");
                assertThat(Cli.run(dashV.toArray()).out()).as(name + " -V").startsWith("ml_server ");
            }
        }

        String[] description = spec.usageMessage().description();
        assertThat(description).as("%s has a description", name).isNotEmpty();
        for (String text : description) {
            String paragraph = text.replace("%n", "");
            assertThat(paragraph.strip()).as("%s: a description paragraph that does not end a sentence", name)
                    .matches(SENTENCE_END);
            assertWordsWhole(name, paragraph, lines);
            assertClosed(name, paragraph);
        }
        for (String footer : spec.usageMessage().footer()) {
            if (footer.startsWith(" ")) {
                assertThat(footer.length()).as("%s: an example wider than %d columns wraps: %s", name, UsageHelp.WIDTH, footer)
                        .isLessThanOrEqualTo(UsageHelp.WIDTH);
            } else {
                assertWordsWhole(name, footer, lines);
            }
        }
        List<ArgSpec> args = new ArrayList<>(spec.options());
        args.addAll(spec.positionalParameters());
        for (ArgSpec arg : args) {
            String text = String.join(" ", arg.description()).strip();
            String what = name + " " + (arg.isOption() ? ((CommandLine.Model.OptionSpec) arg).longestName() : arg.paramLabel());
            assertThat(text).as("%s has a description", what).isNotEmpty();
            assertThat(text).as("%s: a description cut off", what).doesNotMatch(".*[,;:(\\[{\\-/]$");
            String[] words = text.split("\\s+");
            assertThat(DANGLING).as("%s: a description that ends on '%s'", what, words[words.length - 1])
                    .doesNotContain(words[words.length - 1].toLowerCase());
            assertClosed(what, text);
            if (!text.contains("${")) {
                assertWordsWhole(what, text, lines);
            }
        }
    }

    /** Each word of {@code text} appears on one line of the usage: none was split at a line end. */
    private static void assertWordsWhole(String what, String text, List<String> lines) {
        for (String word : text.strip().split("\\s+")) {
            if (!word.isEmpty()) {
                assertThat(lines.stream().anyMatch(l -> containsWord(l, word)))
                        .as("%s: the word '%s' is split across lines", what, word).isTrue();
            }
        }
    }

    private static boolean containsWord(String line, String word) {
        return Arrays.asList(line.strip().split("\\s+")).contains(word);
    }

    private static void assertClosed(String what, String text) {
        assertThat(count(text, '(')).as("%s: unbalanced parentheses: %s", what, text).isEqualTo(count(text, ')'));
        assertThat(count(text, '[')).as("%s: unbalanced brackets: %s", what, text).isEqualTo(count(text, ']'));
        assertThat(count(text, '`') % 2).as("%s: an unclosed backquote: %s", what, text).isZero();
    }

    private static long count(String text, char c) {
        return text.chars().filter(ch -> ch == c).count();
    }

    private static List<CommandLine> commands(CommandLine root) {
        List<CommandLine> all = new ArrayList<>();
        all.add(root);
        for (CommandLine sub : root.getSubcommands().values()) {
            all.addAll(commands(sub));
        }
        return all;
    }

    /** {@code ["k8s", "-h"]} for the command {@code ml_server k8s}. */
    private static List<Object> path(CommandSpec spec) {
        List<Object> names = new ArrayList<>();
        for (CommandSpec s = spec; s.parent() != null; s = s.parent()) {
            names.add(0, s.name());
        }
        names.add("-h");
        return names;
    }

    private static String section(String usage, String heading) {
        return usage.substring(usage.indexOf(heading) + heading.length());
    }

    /** The command list with each wrapped summary joined back onto its command's line. */
    private static String oneLine(String commandList) {
        return commandList.replaceAll("\\n\\s{3,}", " ").replaceAll("[ ]{2,}", " ");
    }
}
