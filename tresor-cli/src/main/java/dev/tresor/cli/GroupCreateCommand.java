package dev.tresor.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", description = "Create a group (admins).",
        footerHeading = "%nExamples:%n",
        footer = "  tresor group create app --description \"the app's runtime secrets\"")
final class GroupCreateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Group name.")
    private String name;

    @Option(names = "--description", paramLabel = "TEXT", description = "What the group is for.")
    private String description;

    GroupCreateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        var body = Json.object().put("name", name);
        if (description != null) {
            body.put("description", description);
        }
        return report(output, connect().call("POST", "groups", Map.of(), body), "created group " + name);
    }
}
