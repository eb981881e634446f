package dev.tresor.agent.identity;

import dev.tresor.agent.feed.Identity;
import dev.tresor.client.CertificateRenewer;
import dev.tresor.client.CredentialDirectory;
import dev.tresor.client.Credentials;
import dev.tresor.client.IssuanceClient;
import dev.tresor.client.IssuanceException;
import dev.tresor.client.RenewalListener;
import dev.tresor.client.RenewalPolicy;
import dev.tresor.client.ServerEndpoint;
import dev.tresor.client.api.ServerAddresses;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials of a {@code tresor cert join} folder ({@link CredentialDirectory}), renewed at
 * half-life through the server's CA by a {@link CertificateRenewer}. After a renewal the new
 * certificate is used for every new connection; the change feed's open long-poll finishes on the
 * old one.
 */
public final class DirectoryIdentity implements Identity {

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryIdentity.class);

    private final CredentialDirectory directory;
    private final ServerEndpoint endpoint;
    private final AtomicReference<Credentials> current = new AtomicReference<>();
    private final AtomicReference<Path> loadedVersion = new AtomicReference<>();
    private final ScheduledExecutorService scheduler;
    private final CertificateRenewer renewer;

    /** @param server the API address, or null to use the one recorded in the folder */
    public DirectoryIdentity(Path dir, URI server, boolean renew) {
        this(dir, server, List.of(), renew);
    }

    /**
     * As above; renewals go to {@code server} (or the recorded one) and, when it refuses the
     * connection, to each of {@code failover} in turn (the agent config's {@code failover:} nodes).
     */
    public DirectoryIdentity(Path dir, URI server, List<URI> failover, boolean renew) {
        this.directory = new CredentialDirectory(dir);
        ServerEndpoint recorded = directory.server().orElseThrow(() -> new IllegalArgumentException("credentials.dir "
                + dir + " records no server (server.url, server-ca.pem); join with tresor cert join"));
        this.endpoint = server == null ? recorded : new ServerEndpoint(server, recorded.trust());
        current.set(directory.load().orElseThrow(() -> new IllegalArgumentException("credentials.dir " + dir
                + " holds no certificate yet; join first (tresor cert join)")));
        if (renew) {
            scheduler = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("renewer").factory());
            renewer = new CertificateRenewer(directory,
                    CertificateRenewer.Renewal.over(new IssuanceClient(endpoint.trust(), Duration.ofSeconds(30)),
                            ServerAddresses.of(endpoint.api(), failover), null, IssuanceClient.Profile.CLIENT),
                    RenewalPolicy.DEFAULT, Clock.systemUTC(), scheduler, List.of(new RenewalListener() {
                        @Override
                        public void renewed(Credentials fresh) {
                            current.set(fresh);
                        }
                    }));
            renewer.start();
            LOG.info("certificate {} renews at {}", current.get().serial(), renewer.nextRenewal());
        } else {
            scheduler = null;
            renewer = null;
        }
    }

    public URI server() {
        return endpoint.api();
    }

    /** Renews at once (for tests and an operator's signal), as the scheduled renewal would; only with renew on. */
    public Credentials renewNow() throws IssuanceException {
        if (renewer == null) {
            throw new IllegalStateException("this identity was opened without renewal");
        }
        return renewer.renewNow();
    }

    @Override
    public SSLContext context() {
        return current.get().sslContext(endpoint.trust());
    }

    /**
     * Also notices a renewal made by another process ({@code tresor cert renew} from cron): the
     * {@code current} symlink is read (one readlink) and the credentials reloaded when it moved.
     */
    @Override
    public Object generation() {
        try {
            Path version = java.nio.file.Files.readSymbolicLink(directory.dir().resolve("current"));
            if (!version.equals(loadedVersion.get())) {
                directory.load().ifPresent(current::set);
                loadedVersion.set(version);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Mid-swap or unreadable: keep what we have, look again at the next request.
        }
        return current.get().serial();
    }

    @Override
    public String serial() {
        return current.get().serial();
    }

    @Override
    public String name() {
        return current.get().identity();
    }

    @Override
    public void close() {
        if (renewer != null) {
            renewer.close();
            scheduler.shutdownNow();
        }
    }
}
