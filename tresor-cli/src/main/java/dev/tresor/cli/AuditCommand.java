package dev.tresor.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "audit", description = "Read the audit log (admins) or verify its hash chain offline.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor audit tail --secret db/password --since 24h",
                "  tresor audit tail --follow",
                "  tresor audit verify /var/lib/tresor/audit.log \\",
                "      --config /var/lib/tresor/tresor.yaml",
        })
final class AuditCommand extends CommandGroup {

    @Mixin
    private HelpOption help;

    AuditCommand(CliContext context) {
        super(context);
    }
}
