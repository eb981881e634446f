package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
        description = "List groups.",
        footerHeading = "%nExamples:%n",
        footer = {"  tresor group ls", "  tresor group ls --json | jq -r '.groups[].name'"})
final class GroupListCommand extends ApiCommand {

    @Option(names = "--json", description = "Print the server's JSON.")
    private boolean json;

    GroupListCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode groups = connect().get("groups");
        if (json) {
            printJson(groups);
            return ExitCodes.OK;
        }
        if (groups.path("groups").isEmpty()) {
            context.err().println("no groups");
            return ExitCodes.OK;
        }
        Table table = new Table("NAME", "DESCRIPTION", "CREATED", "BY");
        for (JsonNode group : groups.path("groups")) {
            String name = Json.text(group, "name", "?") + (group.path("intact").asBoolean(true) ? "" : " (INTEGRITY FAILURE)");
            table.row(name, Json.text(group, "description", "-"), Json.text(group, "createdAt", "-"),
                    Json.text(group, "createdBy", "-"));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
