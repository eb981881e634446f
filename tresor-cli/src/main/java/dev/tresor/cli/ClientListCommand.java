package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
        description = "List clients (admins).",
        footerHeading = "%nExamples:%n",
        footer = {"  tresor client ls", "  tresor client ls --json | jq -r '.clients[] | select(.admin) | .name'"})
final class ClientListCommand extends ApiCommand {

    @Option(names = "--json", description = "Print the server's JSON.")
    private boolean json;

    ClientListCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode clients = connect().get("clients");
        if (json) {
            printJson(clients);
            return ExitCodes.OK;
        }
        Table table = new Table("NAME", "IDENTITY", "ADMIN", "GROUPS");
        for (JsonNode client : clients.path("clients")) {
            String name = Json.text(client, "name", "?") + (client.path("intact").asBoolean(true) ? "" : " (INTEGRITY FAILURE)");
            table.row(name, Json.text(client, "identity", "-"), client.path("admin").asBoolean() ? "yes" : "no",
                    ClientDetails.groups(client));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
