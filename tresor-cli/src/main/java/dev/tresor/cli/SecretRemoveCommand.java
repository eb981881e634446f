package dev.tresor.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", aliases = "delete", description = {
                "Delete a secret (admins). Asks nothing. A plain delete can be undone with `tresor secret restore`.",
                "--destroy erases the data key of every version: the values can never be decrypted again, by anyone. "
                        + "This is irreversible.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret rm old/token",
                "  tresor secret rm leaked/key --destroy     # irreversible",
        })
final class SecretRemoveCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", paramLabel = "NAME", description = "Secret name.")
    private String name;

    @Option(names = "--destroy", description = "Also erase every version's data key. IRREVERSIBLE: the values are gone for good.")
    private boolean destroy;

    SecretRemoveCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        connect().call("DELETE", "secrets/" + name, destroy ? Map.of("destroy", "true") : Map.of(), null);
        out().println(destroy
                ? "destroyed " + name + ": its values can no longer be decrypted"
                : "deleted " + name + " (undo with: tresor secret restore " + name + ")");
        return ExitCodes.OK;
    }
}
