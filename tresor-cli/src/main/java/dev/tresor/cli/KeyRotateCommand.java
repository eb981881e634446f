package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rotate", description = {
                "Rotate the KEK online (admins; keyProvider local): the server that answers makes a new key",
                "file beside the old one, re-wraps the keyring, its audit chain keys and the CA key under it,",
                "then replaces the old key file. O(1) in the number of secrets; audited as key.rotate.",
                "Other nodes on the same database keep working; give them the new key file before they",
                "restart. See docs/operations.md, KEK rotation.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key rotate --kek",
                "  tresor key rotate --kek -o json",
        })
final class KeyRotateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Option(names = "--kek", description = "Rotate the KEK (the key provider's key that wraps the keyring).")
    private boolean kek;

    KeyRotateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        if (!kek) {
            throw CliException.usage("say what to rotate: --kek (--keyring is not built yet)");
        }
        ObjectNode body = Json.object();
        body.put("kek", true);
        JsonNode reply = connect().call("POST", "keys/rotate", Map.of(), body);
        if (output.structured()) {
            output.print(out(), reply);
            return ExitCodes.OK;
        }
        out().println("KEK rotated: " + Json.text(reply, "fromKekId", "?") + " -> " + Json.text(reply, "toKekId", "?")
                + " (keyring version " + reply.path("keyringVersion").asLong() + ")");
        out().println("re-wrapped: keyring, " + reply.path("auditChainKeys").asInt() + " audit chain key(s)"
                + (reply.path("caKey").asBoolean() ? ", CA key" : "") + "; " + Json.text(reply, "keyFile", "the key file")
                + " now holds the new KEK");
        return ExitCodes.OK;
    }
}
