package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "cert", description = "The server's own TLS certificate.",
        footerHeading = "%nExamples:%n",
        footer = {"  tresor server cert renew --dir /var/lib/tresor"})
final class ServerCertCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    ServerCertCommand(CliContext context) {
        super(context);
    }
}
