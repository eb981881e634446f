package dev.tresor.cli;

import dev.tresor.rotation.RotationEngine;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.StepHook;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the rotation's state, changing nothing: the active slot and versions, any outstanding pending "
                + "version, which stored passwords log in, which slot each consumer holds.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor rotate status --config openemr.yaml")
final class RotateStatusCommand extends ApiCommand {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The rotation definition (YAML).")
    private Path config;

    @Option(names = "--json", description = "Print the state as JSON.")
    private boolean json;

    RotateStatusCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        List<RotationEngine.Check> lines;
        try (RotationJob job = new RotationJob(RotationCommandSupport.load(config), RotationCommandSupport.connection(context),
                RotationListener.SILENT, StepHook.NONE)) {
            lines = job.engine().status();
        } catch (RotationException e) {
            throw new CliException(RotationCommandSupport.exitCode(e.kind().name()), e.getMessage());
        }
        RotateVerifyCommand.print(context, lines, json);
        return ExitCodes.OK;
    }
}
