package dev.mlserver.gateway.cli;

import dev.mlserver.gateway.GatewayVersion;
import dev.mlserver.gateway.cli.deploy.MlServerSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ml_server}: the gateway and its tools in one executable jar. */
@Command(name = "ml_server",
        mixinStandardHelpOptions = true,
        versionProvider = MlServer.Version.class,
        description = "Serve, build and ship a family of ONNX classifiers packaged as plugin jars.",
        subcommands = {ServeCommand.class, InitCommand.class, ValidateCommand.class, ListCommand.class,
            VersionCommand.class, BumpCommand.class, TagsCommand.class,
            BaseImageCommand.class, BuildCommand.class, PushCommand.class, K8sCommand.class, CiCommand.class,
            TestCommand.class, StatusCommand.class, DoctorCommand.class, PackageCommand.class,
            LockCommand.class, EncryptArtifactCommand.class, CommandLine.HelpCommand.class})
public final class MlServer {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with every subcommand; exit codes 0 ok, 1 problem, 2 usage. */
    public static CommandLine commandLine() {
        CommandLine root = UsageHelp.install(new CommandLine(new MlServer()))
                .setExecutionExceptionHandler(new Errors())
                .setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? Errors.USAGE : Errors.PROBLEM)
                .setCaseInsensitiveEnumValuesAllowed(true);
        // `ml_server build -V` says the same as `ml_server -V`, not nothing
        root.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(new Version()));
        return root;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String commit = MlServerSource.stamped().ref().map(c -> " (commit " + c.substring(0, Math.min(12, c.length())) + ")").orElse("");
            return new String[] {"ml_server " + GatewayVersion.current() + commit};
        }
    }
}
