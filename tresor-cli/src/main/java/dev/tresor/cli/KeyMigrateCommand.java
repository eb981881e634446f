package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "migrate", description = {
                "Move the store's KEK to another key provider, online (admins): local",
                "(a key file, sealed if the spec names a passphrase), pkcs11 or awskms.",
                "--to is a file holding the new keyProvider block, as tresor key init",
                "prints it; the server reads its paths and variables as the config's",
                "(a local key file that does not exist yet is created there). The server",
                "opens it first: a wrong PIN, passphrase or credentials, or an HSM or KMS",
                "it cannot reach, change nothing. Then it re-wraps the keyring, its audit",
                "chain keys and CA keys under it and rewrites keyProvider in its config.",
                "Cut short, the next start finishes or undoes it (the keyring row records",
                "the KEK that wraps it). Audited as key.migrate. Give the other nodes the",
                "new block before they restart. See docs/operations.md, key migration.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key init --pkcs11 --library /usr/lib/softhsm/libsofthsm2.so \\",
                "      --slot 1234 --key-label tresor-kek-1 --pin-file hsm.pin > hsm.yaml",
                "  tresor key migrate --to hsm.yaml",
                "  tresor key migrate --to local-sealed.yaml -o json",
        })
final class KeyMigrateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Option(names = "--to", required = true, paramLabel = "FILE",
            description = "A file holding the keyProvider block to move to (kind: local|pkcs11|awskms and its fields).")
    private Path to;

    KeyMigrateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        String spec;
        try {
            spec = Files.readString(to, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw CliException.usage("--to " + to + ": cannot read it (" + e.getMessage() + "); give a file holding the "
                    + "keyProvider block to move to, as tresor key init prints it");
        }
        if (spec.lines().noneMatch(line -> line.matches("keyProvider:\\s*(#.*)?"))) {
            throw CliException.usage("--to " + to + " holds no top-level 'keyProvider:' block; write one like "
                    + "'keyProvider:\\n  kind: pkcs11\\n  ...' (tresor key init prints it)");
        }
        ObjectNode body = Json.object();
        body.put("to", spec);
        JsonNode reply = connect().call("POST", "keys/migrate", Map.of(), body);
        if (output.structured()) {
            output.print(out(), reply);
            return ExitCodes.OK;
        }
        out().println("KEK migrated: " + Json.text(reply, "fromKekId", "?") + " (" + Json.text(reply, "fromProvider", "?")
                + ") -> " + Json.text(reply, "toKekId", "?") + " (" + Json.text(reply, "toProvider", "?")
                + "), keyring version " + reply.path("keyringVersion").asLong());
        out().println("re-wrapped: keyring, " + reply.path("auditChainKeys").asInt() + " audit chain key(s)"
                + (reply.path("caKey").asBoolean() ? ", CA key" : "") + "; keyProvider in "
                + Json.text(reply, "config", "the config") + " now names the new provider; the old key is left as it is");
        return ExitCodes.OK;
    }
}
