package dev.tresor.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "rm", aliases = "delete", description = "Delete a group (admins). Its clients lose access to its secrets at once.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor group rm old-app")
final class GroupRemoveCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Group name.")
    private String name;

    GroupRemoveCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        return report(output, connect().call("DELETE", "groups/" + name, Map.of(), null), "deleted group " + name);
    }
}
