package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "ca", description = "The built-in CA: key rollover with an overlap period.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor ca rotate --config /var/lib/tresor/tresor.yaml",
        })
final class CaCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    CaCommand(CliContext context) {
        super(context);
    }
}
