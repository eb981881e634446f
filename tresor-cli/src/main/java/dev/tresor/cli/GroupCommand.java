package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "group", description = "Manage groups (admins). A client may read a secret iff they share a group.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor group create app --description \"the app's runtime secrets\"",
                "  tresor grant --client app1 --group app",
                "  tresor group show app",
        })
final class GroupCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    GroupCommand(CliContext context) {
        super(context);
    }
}
