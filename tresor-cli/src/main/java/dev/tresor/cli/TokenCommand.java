package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "token", description = "Join tokens (admins): one-time credentials a new workload trades for its first certificate.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor token create --ttl 1h \\",
                "      --identity spiffe://tresor.local/ns/openemr/sa/mariadb",
                "  tresor token create --client mariadb --uses 3 --ttl 30m",
        })
final class TokenCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    TokenCommand(CliContext context) {
        super(context);
    }
}
