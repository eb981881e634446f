package dev.tresor.cli;

import dev.tresor.rotation.RotationEngine;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", description = "Show the rotation's state, changing nothing: the active slot and versions, any outstanding pending "
                + "version, which stored passwords log in, which slot each consumer holds.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor rotate status --config openemr.yaml")
final class RotateStatusCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The rotation definition (YAML).")
    private Path config;

    @Mixin
    private OutputOption output;

    RotateStatusCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        RotationCommandSupport.print(context, RotationCommandSupport.inspect(context, config, RotationEngine::status), output);
        return ExitCodes.OK;
    }
}
