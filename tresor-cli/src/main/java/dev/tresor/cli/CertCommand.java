package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "cert", description = "Workload certificates: join with a token, renew at half-life, revoke (admins).",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor cert join --token \"$T\" --out /run/tresor/id \\",
                "      --server https://tresor.internal:8444 \\",
                "      --api https://tresor.internal:8443 --ca-bundle server-ca.pem",
                "  tresor cert renew --dir /run/tresor/id",
                "  tresor cert revoke 3fa9c0...",
                "  tresor cert revoke --identity spiffe://tresor.local/ns/openemr/sa/mariadb",
        })
final class CertCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    CertCommand(CliContext context) {
        super(context);
    }
}
