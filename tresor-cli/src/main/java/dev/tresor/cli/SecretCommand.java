package dev.tresor.cli;

import picocli.CommandLine.Command;

@Command(name = "secret", mixinStandardHelpOptions = true,
        description = "Store, read, list, delete and restore secrets (named, versioned values).",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret put db/password --file ./pw.txt --group app",
                "  tresor secret get db/password",
                "  tresor secret ls db/",
        })
final class SecretCommand extends CommandGroup {

    SecretCommand(CliContext context) {
        super(context);
    }
}
