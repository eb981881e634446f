package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "rotate", description = {
                "Zero-downtime database credential rotation with two users per application (slots A and B).",
                "The definition (YAML) names the database, the slot and admin secrets, the consumers and the checks; "
                        + "see docs/rotation.md.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor rotate verify --config openemr.yaml",
                "  tresor rotate run --config openemr.yaml --dry-run",
                "  tresor rotate run --config openemr.yaml",
                "  tresor rotate status --config openemr.yaml",
        })
final class RotateCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    RotateCommand(CliContext context) {
        super(context);
    }
}
