package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "client", description = "Manage clients (admins): the workloads and people that connect, each with its own certificate.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor client create app1 --out ./app1-certs",
                "  tresor client ls",
                "  tresor client rm app1",
        })
final class ClientCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    ClientCommand(CliContext context) {
        super(context);
    }
}
