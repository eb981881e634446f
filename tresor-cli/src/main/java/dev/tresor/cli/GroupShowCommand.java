package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "show", description = "Show a group: its clients (with roles) and its secrets.",
        footerHeading = "%nExamples:%n",
        footer = {"  tresor group show app", "  tresor group show app --json | jq -r '.secrets[]'"})
final class GroupShowCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", paramLabel = "NAME", description = "Group name.")
    private String name;

    @Mixin
    private OutputOption output;

    GroupShowCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode group = connect().get("groups/" + name);
        if (output.structured()) {
            output.print(out(), group);
            return ExitCodes.OK;
        }
        PrintStream out = out();
        out.println("name:         " + Table.printable(Json.text(group, "name", null)));
        out.println("description:  " + Table.printable(Json.text(group, "description", null)));
        out.println("created:      " + Json.text(group, "createdAt", "-") + " by " + Table.printable(Json.text(group, "createdBy", null)));
        if (!group.path("intact").asBoolean(true)) {
            out.println("WARNING:      this group's records failed their integrity check");
        }
        out.println("clients:");
        if (group.path("clients").isEmpty()) {
            out.println("  (none)");
        }
        for (JsonNode member : group.path("clients")) {
            // Older servers named the member in "group"; accept both.
            String client = Json.text(member, "client", Json.text(member, "group", null));
            out.println("  " + Table.printable(client) + " (" + Json.text(member, "role", "read") + ")");
        }
        out.println("secrets:");
        if (group.path("secrets").isEmpty()) {
            out.println("  (none)");
        }
        for (JsonNode secret : group.path("secrets")) {
            out.println("  " + Table.printable(secret.asText()));
        }
        return ExitCodes.OK;
    }
}
