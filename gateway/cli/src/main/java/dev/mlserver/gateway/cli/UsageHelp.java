package dev.mlserver.gateway.cli;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Usage help at 80 columns that wraps between words only. Picocli wraps with the JDK's line
 * break rules, which also break after a dot or a colon inside a word: {@code pom.|xml},
 * {@code http://127.|0.0.1}, {@code <name>:|<version>}. Here such a dot or colon stands in for a
 * letter-like private-use character while the text is laid out, and is put back after.
 */
final class UsageHelp {
    /** The width every usage message is laid out in. */
    static final int WIDTH = 80;
    private static final char DOT = '\uE000';
    private static final char COLON = '\uE001';
    private static final Pattern INNER = Pattern.compile("[.:](?=\\S)");

    private UsageHelp() {}

    /** Sets the width and the word-wrapping help on {@code commandLine} and all its subcommands. */
    static CommandLine install(CommandLine commandLine) {
        return commandLine.setUsageHelpWidth(WIDTH).setUsageHelpAutoWidth(false).setHelpFactory(WordWrappingHelp::new);
    }

    /** {@code text} with each dot or colon that a non-space follows replaced by its stand-in. */
    static String protect(String text) {
        return INNER.matcher(text).replaceAll(m -> m.group().equals(".") ? String.valueOf(DOT) : String.valueOf(COLON));
    }

    static String restore(String text) {
        return text.replace(DOT, '.').replace(COLON, ':');
    }

    private static String[] protect(String[] lines) {
        String[] out = new String[lines.length];
        for (int i = 0; i < lines.length; i++) {
            out[i] = protect(lines[i]);
        }
        return out;
    }

    /** Picocli's help, with every wrapped text protected before layout and restored after. */
    private static final class WordWrappingHelp extends Help {
        WordWrappingHelp(CommandSpec spec, ColorScheme colorScheme) {
            super(spec, colorScheme);
        }

        @Override
        public String description(Object... params) {
            return paragraphs(commandSpec().usageMessage().description(), params);
        }

        @Override
        public String header(Object... params) {
            return paragraphs(commandSpec().usageMessage().header(), params);
        }

        @Override
        public String footer(Object... params) {
            return paragraphs(commandSpec().usageMessage().footer(), params);
        }

        private String paragraphs(String[] lines, Object... params) {
            UsageMessageSpec usage = commandSpec().usageMessage();
            return restore(join(ansi(), usage.width(), usage.adjustLineBreaksForWideCJKCharacters(), protect(lines),
                    new StringBuilder(), params).toString());
        }

        /** Each subcommand with the first line of its header, else of its description, as picocli lays it out. */
        @Override
        public String commandList(Map<String, Help> subcommands) {
            if (subcommands.isEmpty()) {
                return "";
            }
            int names = subcommands.values().stream().mapToInt(h -> h.commandNamesText(", ").plainString().length()).max().orElse(0);
            int width = commandSpec().usageMessage().width();
            TextTable table = TextTable.forColumns(colorScheme(),
                    new Column(names + 2, 2, Column.Overflow.SPAN),
                    new Column(width - (names + 2), 2, Column.Overflow.WRAP));
            for (Help help : subcommands.values()) {
                UsageMessageSpec usage = help.commandSpec().usageMessage();
                String[] summary = usage.header().length > 0 ? usage.header() : usage.description();
                String first = summary.length > 0 ? summary[0] : "";
                table.addRowValues(help.commandNamesText(", "), colorScheme().text(protect(first)));
            }
            return restore(table.toString());
        }

        @Override
        public Layout createDefaultLayout() {
            return wordWrapping(super.createDefaultLayout());
        }

        @Override
        public Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals,
                ColorScheme colorScheme) {
            return wordWrapping(super.createDefaultLayout(options, positionals, colorScheme));
        }

        private static Layout wordWrapping(Layout layout) {
            return new Layout(layout.colorScheme(), layout.textTable(), layout.optionRenderer(), layout.parameterRenderer()) {
                /** The last column, the description, protected; the option names keep their styles. */
                @Override
                public void layout(ArgSpec argSpec, Text[][] cells) {
                    for (Text[] row : cells) {
                        int last = row.length - 1;
                        if (last >= 0 && row[last] != null) {
                            row[last] = colorScheme().text(protect(row[last].plainString()));
                        }
                    }
                    super.layout(argSpec, cells);
                }

                @Override
                public String toString() {
                    return restore(super.toString());
                }
            };
        }
    }
}
