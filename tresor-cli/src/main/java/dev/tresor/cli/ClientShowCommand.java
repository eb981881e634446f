package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "show", description = "Show a client: identity, admin flag, groups (admins).",
        footerHeading = "%nExamples:%n",
        footer = "  tresor client show app1")
final class ClientShowCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", paramLabel = "NAME", description = "Client name.")
    private String name;

    @Mixin
    private OutputOption output;

    ClientShowCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode client = connect().get("clients/" + name);
        if (output.structured()) {
            output.print(out(), client);
        } else {
            ClientDetails.print(client, out());
        }
        return ExitCodes.OK;
    }
}
