package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "ls", aliases = "list", description = {
                "List the certificates this server's CA issued, newest first (admins).",
                "Unexpired ones unless --expired; REVOKED shows when and by whom.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor cert ls",
                "  tresor cert ls --client mariadb-tunnel --expired",
                "  tresor cert ls --json | jq -r '.certificates[].serial'",
        })
final class CertListCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Option(names = "--client", paramLabel = "NAME", description = "Only this client's certificates.")
    private String client;

    @Option(names = "--expired", description = "Also list expired certificates.")
    private boolean expired;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "At most N (default: ${DEFAULT-VALUE}).")
    private int limit;

    CertListCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        Map<String, String> query = new LinkedHashMap<>();
        if (client != null) {
            query.put("client", client);
        }
        if (expired) {
            query.put("expired", "true");
        }
        query.put("limit", Integer.toString(limit));
        JsonNode reply = connect().get("ca/certs", query);
        if (output.structured()) {
            output.print(out(), reply);
            return ExitCodes.OK;
        }
        Table table = new Table("SERIAL", "CLIENT", "IDENTITY", "NOT AFTER", "REVOKED");
        for (JsonNode c : reply.path("certificates")) {
            table.row(Json.text(c, "serial", "?"), Json.text(c, "client", "-"), Json.text(c, "identity", "-"),
                    Json.text(c, "notAfter", "-"), c.path("revokedAt").isNull() || c.path("revokedAt").isMissingNode() ? "-"
                            : c.path("revokedAt").asText() + " by " + Json.text(c, "revokedBy", "?"));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
