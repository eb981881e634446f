package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "key", description = "The key hierarchy: KEK rotation and status (admins).",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key status",
                "  tresor key rotate --kek",
        })
final class KeyCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    KeyCommand(CliContext context) {
        super(context);
    }
}
