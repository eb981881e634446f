package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "revoke", description = "Take access away (admins): remove a client from a group, or a secret from a group. Effective at once.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor revoke --client app1 --group app",
                "  tresor revoke --secret db/password --group app",
        })
final class RevokeCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private MembershipTarget target;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The group.")
    private String group;

    RevokeCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        TresorClient api = connect();
        if (target.client != null) {
            JsonNode answer = api.call("DELETE", "groups/" + group + "/clients/" + target.client, Map.of(), null);
            return report(output, answer, "client " + target.client + " is no longer in group " + group);
        }
        JsonNode answer = api.call("DELETE", "groups/" + group + "/secrets/" + target.secret, Map.of(), null);
        return report(output, answer, "secret " + target.secret + " is no longer readable by group " + group);
    }
}
