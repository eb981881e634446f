package dev.tresor.cli;

import picocli.CommandLine.Command;

@Command(name = "ca", mixinStandardHelpOptions = true,
        description = "The built-in CA: key rollover with an overlap period.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor ca rotate --config /var/lib/tresor/tresor.yaml",
        })
final class CaCommand extends CommandGroup {

    CaCommand(CliContext context) {
        super(context);
    }
}
