package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "create", description = {
                "Create a join token for an existing client (admins). Prints the token on standard output, once:",
                "it is stored only hashed. The workload runs tresor cert join --token T and gets that client's identity.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor token create --ttl 1h \\",
                "      --identity spiffe://tresor.local/ns/openemr/sa/mariadb",
                "  T=$(tresor token create --client mariadb --uses 3 --ttl 30m)",
        })
final class TokenCreateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Target target;

    static final class Target {
        @Option(names = "--identity", paramLabel = "ID", description = "The identity (SPIFFE ID) of an existing client.")
        String identity;

        @Option(names = "--client", paramLabel = "NAME", description = "The name of an existing client.")
        String client;
    }

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h",
            description = "How long the token may be used (default ${DEFAULT-VALUE}; at most 7d).")
    private String ttl;

    @Option(names = "--uses", paramLabel = "N", defaultValue = "1",
            description = "How many workloads may join with it (default ${DEFAULT-VALUE}).")
    private int uses;

    @Option(names = "--json", description = "Print the server's whole answer as JSON.")
    private boolean json;

    TokenCreateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        ObjectNode body = Json.object();
        if (target.identity != null) {
            body.put("identity", target.identity);
        } else {
            body.put("client", target.client);
        }
        body.put("ttl", ttl);
        body.put("uses", uses);
        JsonNode reply = connect().call("POST", "tokens", Map.of(), body);
        if (json) {
            printJson(reply);
        } else {
            out().println(reply.path("token").asText());
            context.err().println("join token " + reply.path("id").asText() + " for " + reply.path("identity").asText()
                    + " (client " + reply.path("client").asText() + "): " + reply.path("uses").asInt()
                    + " use(s), expires " + reply.path("expiresAt").asText());
            // The pin a workload joins with instead of a CA file: the CA this CLI trusts the server by.
            Setting<java.nio.file.Path> ca = new ConnectionResolver(context).resolve().ca();
            if (ca != null && ca.value() != null) {
                for (java.security.cert.X509Certificate c : CertSupport.bundle(ca.value())) {
                    context.err().println("server CA for tresor cert join --ca-fingerprint: "
                            + dev.tresor.client.PinnedCa.fingerprint(c));
                }
            }
        }
        return ExitCodes.OK;
    }
}
