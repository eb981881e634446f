package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "grant", description = {
                "Give access (admins): put a client in a group, or a secret in a group. "
                        + "A client can read a secret iff they share a group.",
                "Role 'write' also lets the client add versions and move labels of the group's secrets (e.g. a rotation job).",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor grant --client app1 --group app",
                "  tresor grant --client rotator --group app --role write",
                "  tresor grant --secret db/password --group app",
        })
final class GrantCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private MembershipTarget target;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The group.")
    private String group;

    @Option(names = "--role", paramLabel = "ROLE", description = "read (default) or write; only with --client.")
    private String role;

    GrantCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        String normalizedRole = role == null ? "read" : role.toLowerCase(Locale.ROOT);
        if (!normalizedRole.equals("read") && !normalizedRole.equals("write")) {
            throw CliException.usage("--role must be read or write, not '" + role + "'");
        }
        if (target.secret != null && role != null) {
            throw CliException.usage("--role applies to clients only; a secret is readable by every member of its group");
        }
        TresorClient api = connect();
        if (target.client != null) {
            JsonNode answer = api.call("PUT", "groups/" + group + "/clients/" + target.client, Map.of(),
                    Json.object().put("role", normalizedRole));
            return report(output, answer, "client " + target.client + " is in group " + group + " (" + normalizedRole + ")");
        }
        JsonNode answer = api.call("PUT", "groups/" + group + "/secrets/" + target.secret, Map.of(), null);
        return report(output, answer, "secret " + target.secret + " is readable by group " + group);
    }
}
