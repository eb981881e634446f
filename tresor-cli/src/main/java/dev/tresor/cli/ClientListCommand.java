package dev.tresor.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "ls", aliases = "list", description = "List clients (admins).",
        footerHeading = "%nExamples:%n",
        footer = {"  tresor client ls", "  tresor client ls --json | jq -r '.clients[] | select(.admin) | .name'"})
final class ClientListCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    ClientListCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        return printList(connect().get("clients"), output, "clients", new Table("NAME", "IDENTITY", "ADMIN", "GROUPS"),
                client -> List.of(Json.text(client, "identity", "-"), client.path("admin").asBoolean() ? "yes" : "no",
                        ClientDetails.groups(client)));
    }
}
