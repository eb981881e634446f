package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "restore", description = "Undo `tresor secret rm` (admins). Destroyed secrets cannot be restored.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor secret restore old/token")
final class SecretRestoreCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Secret name.")
    private String name;

    SecretRestoreCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode restored = connect().call("POST", "secrets/" + name + "/restore", Map.of(), null);
        return report(output, restored, "restored " + name + " (current version " + Json.text(restored, "currentVersion", "-") + ")");
    }
}
