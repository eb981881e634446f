package dev.tresor.tunnel.tls;

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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The managed mode: a tunnel's certificate comes from a {@code tresor cert join --profile workload}
 * folder ({@link CredentialDirectory}) and is renewed by the tunnel itself at half-life through the
 * server's CA ({@code POST /v1/ca/renew}, workload profile: clientAuth and serverAuth), with a new
 * key each time. The next connection presents the new certificate; open ones keep their session.
 * A failed renewal is logged and retried with backoff while the current certificate stays in use.
 */
public final class ManagedCertificateSource implements CertificateSource {

    private static final Logger LOG = LoggerFactory.getLogger(ManagedCertificateSource.class);

    private final CredentialDirectory directory;
    private final AtomicReference<KeyMaterial> current = new AtomicReference<>();
    private final List<Consumer<KeyMaterial>> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService scheduler;
    private final CertificateRenewer renewer;

    /** @throws IllegalArgumentException naming {@code field} if the folder holds no joined credentials */
    public static ManagedCertificateSource open(String field, Path dir) {
        return open(field, dir, List.of());
    }

    /**
     * As {@link #open(String, Path)}; renewals go to the server the folder records, then to each of
     * {@code failover} in turn when one does not answer (nodes of one cluster, SPEC §3.6).
     */
    public static ManagedCertificateSource open(String field, Path dir, List<URI> failover) {
        return new ManagedCertificateSource(field, dir, failover, RenewalPolicy.DEFAULT);
    }

    ManagedCertificateSource(String field, Path dir, List<URI> failover, RenewalPolicy policy) {
        this.directory = new CredentialDirectory(dir);
        ServerEndpoint server = directory.server().orElseThrow(() -> new IllegalArgumentException(field + ": " + dir
                + " records no server (server.url, server-ca.pem); make it with tresor cert join --profile workload --out "
                + dir));
        Credentials loaded = directory.load().orElseThrow(() -> new IllegalArgumentException(field + ": " + dir
                + " holds no certificate yet; join first (tresor cert join --profile workload --out " + dir + ")"));
        current.set(material(loaded));
        scheduler = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("tunnel-renewer").factory());
        renewer = new CertificateRenewer(directory,
                CertificateRenewer.Renewal.over(new IssuanceClient(server.trust(), Duration.ofSeconds(30)),
                        ServerAddresses.of(server.api(), failover), null, IssuanceClient.Profile.WORKLOAD),
                policy, Clock.systemUTC(), scheduler, List.of(new RenewalListener() {
                    @Override
                    public void renewed(Credentials fresh) {
                        KeyMaterial next = material(fresh);
                        current.set(next);
                        LOG.info("tunnel certificate renewed: serial {} valid until {}", next.serialHex(),
                                next.leaf().getNotAfter().toInstant());
                        listeners.forEach(l -> l.accept(next));
                    }

                    @Override
                    public void failed(Exception problem, int attempt, java.time.Instant retryAt) {
                        LOG.warn("tunnel certificate renewal failed (attempt {}: {}); the current certificate stays in use, "
                                + "retry at {}", attempt, problem.getMessage(), retryAt);
                    }
                }));
        renewer.start();
        LOG.info("tunnel certificate {} from {} renews at {}", current.get().serialHex(), dir, renewer.nextRenewal());
    }

    private static KeyMaterial material(Credentials c) {
        return new KeyMaterial(c.chain(), c.key());
    }

    @Override
    public KeyMaterial current() {
        return current.get();
    }

    @Override
    public void onChange(Consumer<KeyMaterial> listener) {
        listeners.add(listener);
    }

    @Override
    public String describe() {
        return directory.dir() + " (managed: renewed at half-life through the server's CA)";
    }

    /** Renews at once (for tests and for an operator's signal); the listeners hear of it as of a scheduled one. */
    public void renewNow() throws IssuanceException {
        renewer.renewNow();
    }

    @Override
    public void close() {
        renewer.close();
        scheduler.shutdownNow();
    }
}
