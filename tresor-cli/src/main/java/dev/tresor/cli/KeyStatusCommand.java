package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "status", description = {
                "Show the key hierarchy (admins): key provider, KEK id, keyring version, primary key,",
                "number of keyring keys, and how many data keys each key wraps.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key status",
                "  tresor key status -o json | jq .dataKeys",
        })
final class KeyStatusCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    KeyStatusCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode reply = connect().get("keys/status");
        if (output.structured()) {
            output.print(out(), reply);
            return ExitCodes.OK;
        }
        out().println("provider:        " + Json.text(reply, "provider", "?"));
        out().println("KEK:             " + Json.text(reply, "kekId", "?"));
        out().println("keyring version: " + reply.path("keyringVersion").asLong());
        out().println("primary key:     " + Json.text(reply, "primaryKeyId", "?"));
        out().println("keys:            " + reply.path("keys").asInt());
        JsonNode rotation = reply.path("keyringRotation");
        if (!rotation.isMissingNode() && !Json.text(rotation, "phase", "idle").equals("idle")) {
            out().println("keyring rotation: " + Json.text(rotation, "phase", "?") + ", " + rotation.path("rewrapped").asLong()
                    + " re-wrapped, " + rotation.path("remaining").asLong() + " left"
                    + (rotation.path("unreadable").asLong() > 0 ? ", " + rotation.path("unreadable").asLong() + " unreadable" : "")
                    + (rotation.path("problem").isTextual() ? " (" + rotation.path("problem").asText() + ")" : ""));
        }
        Table table = new Table("KEY", "DATA KEYS");
        for (Iterator<Map.Entry<String, JsonNode>> it = reply.path("dataKeys").properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            table.row(e.getKey(), Long.toString(e.getValue().asLong()));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
