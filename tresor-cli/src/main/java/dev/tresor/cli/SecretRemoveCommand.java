package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Console;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", aliases = "delete", description = {
                "Delete a secret (admins). A plain delete can be undone with `tresor secret restore`.",
                "--destroy erases the data key of every version: the values can never be decrypted again, by anyone. "
                        + "This is irreversible, so it asks you to type the name (or takes --yes, e.g. in scripts).",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret rm old/token",
                "  tresor secret rm leaked/key --destroy     # irreversible; asks",
                "  tresor secret rm leaked/key --destroy --yes",
        })
final class SecretRemoveCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Secret name.")
    private String name;

    @Option(names = "--destroy", description = "Also erase every version's data key. IRREVERSIBLE: the values are gone for good.")
    private boolean destroy;

    @Option(names = {"-y", "--yes"}, description = "Do not ask before --destroy.")
    private boolean yes;

    SecretRemoveCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        if (destroy && !yes) {
            confirmDestroy();
        }
        JsonNode answer = connect().call("DELETE", "secrets/" + name, destroy ? Map.of("destroy", "true") : Map.of(), null);
        return report(output, answer, destroy
                ? "destroyed " + name + ": its values can no longer be decrypted"
                : "deleted " + name + " (undo with: tresor secret restore " + name + ")");
    }

    /** Typing the name, as GitHub asks before deleting a repository: a reflexive "y" is not enough here. */
    private void confirmDestroy() {
        Console console = context.console();
        if (console == null) {
            throw CliException.usage("--destroy erases every version of " + name + " for good; not on a terminal to ask, "
                    + "so pass --yes to confirm");
        }
        context.err().print("This erases every version of " + name + " for good; nobody can decrypt them again.\n"
                + "Type the name to confirm: ");
        context.err().flush();
        String typed = console.readLine();
        if (typed == null || !typed.strip().equals(name)) {
            throw CliException.usage("not confirmed; nothing was destroyed");
        }
    }
}
