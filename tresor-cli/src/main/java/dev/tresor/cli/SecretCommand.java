package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "secret", description = "Store, read, list, delete and restore secrets (named, versioned values).",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret put db/password --file ./pw.txt --group app",
                "  tresor secret get db/password",
                "  tresor secret ls db/",
        })
final class SecretCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    SecretCommand(CliContext context) {
        super(context);
    }
}
