package dev.tresor.cli;

import dev.tresor.rotation.RotationEngine;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", description = "Preflight, changing nothing: Tresor reachable, both secrets readable and writable by this identity, "
                + "an admin password that logs in, both slot users with their role, every consumer usable. Exits 1 if a check fails.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor rotate verify --config openemr.yaml")
final class RotateVerifyCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The rotation definition (YAML).")
    private Path config;

    @Mixin
    private OutputOption output;

    RotateVerifyCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        List<RotationEngine.Check> checks = RotationCommandSupport.inspect(context, config, RotationEngine::verify);
        RotationCommandSupport.print(context, checks, output);
        return checks.stream().allMatch(RotationEngine.Check::ok) ? ExitCodes.OK : ExitCodes.ERROR;
    }
}
