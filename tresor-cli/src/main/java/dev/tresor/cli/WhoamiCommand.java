package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "whoami", description = "Show who the server takes you for: your client name, identity, admin flag and groups.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor whoami",
                "  tresor whoami --json | jq -r .identity",
        })
final class WhoamiCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    WhoamiCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode me = connect().get("whoami");
        if (output.structured()) {
            output.print(out(), me);
        } else {
            ClientDetails.print(me, out());
        }
        return ExitCodes.OK;
    }
}
