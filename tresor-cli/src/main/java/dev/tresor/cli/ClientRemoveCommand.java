package dev.tresor.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "rm", aliases = "delete", description = "Delete a client (admins). Its certificate then grants nothing, even before it expires.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor client rm app1")
final class ClientRemoveCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Client name.")
    private String name;

    ClientRemoveCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        return report(output, connect().call("DELETE", "clients/" + name, Map.of(), null), "deleted client " + name);
    }
}
