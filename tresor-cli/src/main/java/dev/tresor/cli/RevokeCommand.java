package dev.tresor.cli;

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
            api.call("DELETE", "groups/" + group + "/clients/" + target.client, Map.of(), null);
            out().println("client " + target.client + " is no longer in group " + group);
        } else {
            api.call("DELETE", "groups/" + group + "/secrets/" + target.secret, Map.of(), null);
            out().println("secret " + target.secret + " is no longer readable by group " + group);
        }
        return ExitCodes.OK;
    }
}
