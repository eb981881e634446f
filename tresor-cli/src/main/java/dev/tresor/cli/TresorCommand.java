package dev.tresor.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code tresor}: the top command. Its connection options (also on every API command, see
 * {@link ConnectionOptions}) may be written before or after the subcommand name.
 */
@Command(name = "tresor",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Tresor: a zero-trust secrets server and its client. Secrets are encrypted, every access is "
                + "audited, and every caller is identified by its client certificate (mutual TLS).",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor dev                  # local server; prints export lines",
                "  tresor secret put db/password --file pw.txt --group app",
                "  tresor secret get db/password",
                "  tresor client create app1 --out ./app1",
                "  tresor grant --client app1 --group app",
                "",
                "Connection settings of client commands (first found wins):",
                "  1. --addr, --cert, --key, --ca",
                "  2. TRESOR_ADDR, TRESOR_CERT, TRESOR_KEY, TRESOR_CA",
                "  3. a profile: --profile FILE, else $TRESOR_PROFILE,",
                "     else ~/.tresor/profile.yaml (keys: addr, cert, key, ca;",
                "     relative paths are relative to the profile's folder)",
                "",
                "Exit codes:",
        })
final class TresorCommand implements Callable<Integer> {

    private final CliContext context;

    @Mixin
    private ConnectionOptions connection;

    @Spec
    private CommandSpec spec;

    TresorCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(context.err());
        return ExitCodes.USAGE;
    }
}
