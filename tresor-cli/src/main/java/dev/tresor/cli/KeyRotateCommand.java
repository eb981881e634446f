package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rotate", description = {
                "--kek: rotate the KEK online (admins): the server that answers makes a new KEK (local: a key",
                "file beside the old one; pkcs11: a key under the next label on the token), re-wraps the",
                "keyring, its audit chain keys and the CA keys under it, then puts it in place (local: replaces",
                "the key file; pkcs11: keyProvider.keyLabel in the config). O(1) in the number of secrets.",
                "Other nodes keep working; give them the new key file or label before they restart.",
                "awskms: name the KMS key to move to with --key-id (Tresor creates no KMS keys); the",
                "config's keyProvider.keyId is rewritten to it.",
                "--keyring: a fresh keyring key becomes primary at once; the server re-wraps every older data",
                "key under it in the background (progress: tresor key status), then retires the older key.",
                "Both are audited as key.rotate. See docs/operations.md, key rotation.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key rotate --kek",
                "  tresor key rotate --kek -o json",
                "  tresor key rotate --kek --key-id alias/tresor-2",
                "  tresor key rotate --keyring && tresor key status",
        })
final class KeyRotateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Option(names = "--kek", description = "Rotate the KEK (the key provider's key that wraps the keyring).")
    private boolean kek;

    @Option(names = "--keyring", description = "Rotate the keyring key that wraps the data keys.")
    private boolean keyring;

    @Option(names = "--key-id", paramLabel = "ARN|alias/NAME",
            description = "With --kek on an awskms server: the KMS key to move to.")
    private String keyId;

    KeyRotateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        if (kek == keyring) {
            throw CliException.usage("say what to rotate, one at a time: --kek or --keyring");
        }
        if (keyId != null && !kek) {
            throw CliException.usage("--key-id goes with --kek (the KMS key a KEK rotation moves to)");
        }
        ObjectNode body = Json.object();
        body.put(kek ? "kek" : "keyring", true);
        if (keyId != null) {
            body.put("keyId", keyId);
        }
        JsonNode reply = connect().call("POST", "keys/rotate", Map.of(), body);
        if (output.structured()) {
            output.print(out(), reply);
            return ExitCodes.OK;
        }
        if (keyring) {
            out().println("keyring key rotated: " + Json.text(reply, "previousPrimaryKeyId", "?") + " -> "
                    + Json.text(reply, "primaryKeyId", "?") + " (keyring version " + reply.path("keyringVersion").asLong()
                    + "); new values use it now");
            out().println(reply.path("toRewrap").asLong() + " data key(s) are being re-wrapped in the background; "
                    + "follow it with: tresor key status");
            return ExitCodes.OK;
        }
        out().println("KEK rotated: " + Json.text(reply, "fromKekId", "?") + " -> " + Json.text(reply, "toKekId", "?")
                + " (keyring version " + reply.path("keyringVersion").asLong() + ")");
        out().println("re-wrapped: keyring, " + reply.path("auditChainKeys").asInt() + " audit chain key(s)"
                + (reply.path("caKey").asBoolean() ? ", CA key" : "") + "; " + where(reply));
        return ExitCodes.OK;
    }

    private static String where(JsonNode reply) {
        if (reply.path("keyId").isTextual()) {
            return "keyProvider.keyId is now " + reply.path("keyId").asText();
        }
        return reply.path("keyLabel").isTextual() ? "keyProvider.keyLabel is now " + reply.path("keyLabel").asText()
                : Json.text(reply, "keyFile", "the key file") + " now holds the new KEK";
    }
}
