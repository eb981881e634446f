package dev.tresor.cli;

import dev.tresor.ca.Pem;
import dev.tresor.model.Durations;
import dev.tresor.server.bootstrap.DataFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "renew", description = {
                "Renew the server certificate (server.crt, server.key) of a data folder from its own CA (ca.crt, ca.key), "
                        + "keeping its names, if it expires within --within (or now with --force). A running server "
                        + "serves the new certificate to new connections within seconds, without a restart.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor server cert renew --dir /var/lib/tresor",
                "  tresor server cert renew --dir /var/lib/tresor --force",
                "  # daily from cron: renews only in the last 30 days",
        })
final class ServerCertRenewCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    private final CliContext context;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "The data folder (made by tresor init).")
    private Path dir;

    @Option(names = "--within", paramLabel = "DURATION", defaultValue = "30d",
            description = "Renew if the certificate expires within this (default: ${DEFAULT-VALUE}).")
    private String within;

    @Option(names = "--force", description = "Renew now, however long the certificate is still valid.")
    private boolean force;

    ServerCertRenewCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        Duration margin;
        try {
            margin = force ? Duration.ofDays(365L * 1000) : Durations.parse("--within", within);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        DataFolder folder = new DataFolder(dir);
        for (String file : new String[] {"server.crt", "server.key", "ca.crt", "ca.key"}) {
            if (!Files.isRegularFile(folder.dir().resolve(file))) {
                throw CliException.usage("--dir " + dir + " has no " + file + "; point it at the folder tresor init made");
            }
        }
        boolean renewed;
        try {
            renewed = folder.renewServerCertificateIfExpiring(margin, context.clock());
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            throw CliException.error("cannot renew the server certificate in " + folder.dir() + ": " + Cli.describe(e));
        }
        X509Certificate now = Pem.readCertificates(folder.dir().resolve("server.crt")).getFirst();
        String serial = now.getSerialNumber().toString(16);
        var answer = Json.object().put("renewed", renewed).put("serial", serial)
                .put("notAfter", now.getNotAfter().toInstant().toString());
        return output.report(context.out(), answer, renewed
                ? "renewed " + folder.dir().resolve("server.crt") + ": serial " + serial + ", valid until "
                        + now.getNotAfter().toInstant() + "; a running server serves it to new connections within 5 s"
                : "server.crt is valid until " + now.getNotAfter().toInstant() + ", beyond --within " + within
                        + "; nothing to do (--force renews anyway)");
    }
}
