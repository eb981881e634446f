package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "ls", aliases = "list", description = "List groups.",
        footerHeading = "%nExamples:%n",
        footer = {"  tresor group ls", "  tresor group ls --json | jq -r '.groups[].name'"})
final class GroupListCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    GroupListCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode groups = connect().get("groups");
        if (!output.structured() && groups.path("groups").isEmpty()) {
            context.err().println("no groups");
            return ExitCodes.OK;
        }
        return printList(groups, output, "groups", new Table("NAME", "DESCRIPTION", "CREATED", "BY"),
                group -> List.of(Json.text(group, "description", "-"), Json.text(group, "createdAt", "-"),
                        Json.text(group, "createdBy", "-")));
    }
}
