package dev.tresor.cli;

import dev.tresor.client.CertificateRenewer;
import dev.tresor.client.CredentialDirectory;
import dev.tresor.client.Credentials;
import dev.tresor.client.IssuanceClient;
import dev.tresor.client.IssuanceException;
import dev.tresor.client.RenewalPolicy;
import dev.tresor.client.ServerEndpoint;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "renew", description = {
                "Renew this workload's certificate over mTLS with a new key, once it has reached half of its lifetime",
                "(or now with --force). The new key and certificate replace the old ones atomically (a versioned",
                "folder and one symlink swap); the old pair stays until the next renewal. Exit 0 also when not due.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor cert renew --dir /run/tresor/id",
                "  tresor cert renew --dir /run/tresor/id --force --profile workload",
                "  */10 * * * *  tresor cert renew --dir /run/tresor/id   (cron)",
        })
final class CertRenewCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".",
            description = "The credentials folder written by tresor cert join (default: the current folder).")
    private Path dir;

    @Option(names = "--force", description = "Renew now, whatever the certificate's age.")
    private boolean force;

    @Option(names = "--server", paramLabel = "URL", description = "The API (mTLS) port; default: the one recorded at join.")
    private URI server;

    @Option(names = "--ca-bundle", paramLabel = "FILE",
            description = "The CA the server's certificate must chain to; default: the one recorded at join.")
    private Path caBundle;

    @Option(names = "--ttl", paramLabel = "DURATION", description = "Lifetime to ask for (default: the server's ca.defaultTtl).")
    private String ttl;

    @Option(names = "--profile", paramLabel = "client|workload", defaultValue = "client",
            description = "client: clientAuth only (default); workload: clientAuth and serverAuth.")
    private String profile;

    CertRenewCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        CredentialDirectory folder = new CredentialDirectory(dir);
        if (folder.load().isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "no credentials in " + folder.dir() + "; join first (tresor cert join)");
        }
        Optional<ServerEndpoint> recorded = folder.server();
        URI api = server != null ? CertSupport.https("--server", server)
                : recorded.map(ServerEndpoint::api).orElseThrow(() -> CliException.usage("no server recorded in "
                        + folder.dir() + "; give --server https://HOST:APIPORT"));
        List<java.security.cert.X509Certificate> trust = caBundle != null ? CertSupport.bundle(caBundle)
                : recorded.map(ServerEndpoint::trust).orElseThrow(() -> CliException.usage("no server CA recorded in "
                        + folder.dir() + "; give --ca-bundle FILE"));
        Duration lifetime = null;
        if (ttl != null) {
            try {
                lifetime = dev.tresor.model.Durations.parse("--ttl", ttl);
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        IssuanceClient client = new IssuanceClient(trust, Duration.ofSeconds(30));
        ScheduledExecutorService unused = Executors.newSingleThreadScheduledExecutor();
        try (CertificateRenewer renewer = new CertificateRenewer(folder,
                CertificateRenewer.Renewal.over(client, api, lifetime, CertSupport.profile(profile)), RenewalPolicy.DEFAULT,
                context.clock(), unused, List.of())) {
            Credentials before = renewer.current();
            Optional<Credentials> renewed = force ? Optional.of(renewer.renewNow()) : renewer.renewIfDue();
            if (renewed.isEmpty()) {
                context.out().println("not due: serial " + before.serial() + " renews from "
                        + RenewalPolicy.DEFAULT.dueAt(before) + " (valid until " + before.notAfter() + "); --force renews now");
                return ExitCodes.OK;
            }
            Credentials fresh = renewed.get();
            context.out().println("renewed " + fresh.identity() + ": serial " + before.serial() + " -> " + fresh.serial()
                    + ", valid until " + fresh.notAfter());
            return ExitCodes.OK;
        } catch (IssuanceException e) {
            throw CertSupport.failure("renewal (the old key and certificate are unchanged)", e);
        } finally {
            unused.shutdownNow();
        }
    }
}
