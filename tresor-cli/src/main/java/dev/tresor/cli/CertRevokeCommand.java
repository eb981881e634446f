package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "revoke", description = {
                "Revoke a certificate by serial, or every certificate issued so far for an identity (admins).",
                "The API refuses it at once, also on connections already open; it is listed in GET /v1/ca/crl.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor cert revoke 3fa9c01b...",
                "  tresor cert revoke --identity spiffe://tresor.local/ns/openemr/sa/mariadb",
        })
final class CertRevokeCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SERIAL", description = "The certificate's serial (hex).")
    private String serial;

    @Option(names = "--identity", paramLabel = "ID", description = "Revoke every certificate of this identity instead.")
    private String identity;

    CertRevokeCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        if ((serial == null) == (identity == null)) {
            throw CliException.usage("give a SERIAL or --identity ID (exactly one)");
        }
        ObjectNode body = Json.object();
        if (serial != null) {
            body.put("serial", serial);
        } else {
            body.put("identity", identity);
        }
        JsonNode reply = connect().call("POST", "ca/revoke", Map.of(), body);
        List<String> serials = new ArrayList<>();
        reply.path("revoked").forEach(s -> serials.add(s.asText()));
        out().println("revoked " + (serials.isEmpty() ? "(no recorded certificate; the identity refuses older ones)"
                : String.join(", ", serials)) + " for " + reply.path("identity").asText());
        return ExitCodes.OK;
    }
}
