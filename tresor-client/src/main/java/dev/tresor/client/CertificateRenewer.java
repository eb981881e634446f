package dev.tresor.client;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a workload's certificate fresh: renews it at half-life (with jitter, see
 * {@link RenewalPolicy}) over mTLS with a new key each time, installs the new key and certificate
 * atomically in its {@link CredentialDirectory}, and tells the listeners. A failed renewal is
 * retried with backoff; the last good files are never removed or overwritten by a failure.
 *
 * <p>Use {@link #start()} for a long-running process (agent, tunnel) or {@link #renewIfDue} /
 * {@link #renewNow} for a one-shot ({@code tresor cert renew}). Thread-safe.
 */
public final class CertificateRenewer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CertificateRenewer.class);

    /** How one renewal is done; {@link #over(IssuanceClient, java.net.URI, Duration, IssuanceClient.Profile)} is the real one. */
    @FunctionalInterface
    public interface Renewal {
        Credentials renew(Credentials current, KeyPair newKeys) throws IssuanceException;

        /** Renewal against a Tresor API ({@code POST /v1/ca/renew}); {@code ttl} may be null (the server's default). */
        static Renewal over(IssuanceClient client, java.net.URI api, Duration ttl, IssuanceClient.Profile profile) {
            return over(client, dev.tresor.client.api.ServerAddresses.of(api), ttl, profile);
        }

        /** As above on several nodes of one cluster, tried in order (a node that refuses connections is passed over). */
        static Renewal over(IssuanceClient client, dev.tresor.client.api.ServerAddresses api, Duration ttl,
                            IssuanceClient.Profile profile) {
            return (current, keys) -> client.renew(api, current, keys, ttl, profile);
        }
    }

    private final CredentialDirectory directory;
    private final Renewal renewal;
    private final RenewalPolicy policy;
    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private final List<RenewalListener> listeners;
    private final RandomGenerator random;
    private final AtomicReference<Credentials> current = new AtomicReference<>();
    private final AtomicReference<ScheduledFuture<?>> next = new AtomicReference<>();
    private volatile Instant nextRenewal;
    private volatile boolean closed;
    private int attempt;

    /**
     * @param scheduler runs the scheduled renewals (not shut down by {@link #close()}: the caller owns it)
     * @param listeners told of each renewal and failure, in order
     */
    public CertificateRenewer(CredentialDirectory directory, Renewal renewal, RenewalPolicy policy, Clock clock,
                              ScheduledExecutorService scheduler, List<RenewalListener> listeners) {
        this(directory, renewal, policy, clock, scheduler, listeners, RandomGenerator.of("L64X128MixRandom"));
    }

    CertificateRenewer(CredentialDirectory directory, Renewal renewal, RenewalPolicy policy, Clock clock,
                       ScheduledExecutorService scheduler, List<RenewalListener> listeners, RandomGenerator random) {
        this.directory = directory;
        this.renewal = renewal;
        this.policy = policy;
        this.clock = clock;
        this.scheduler = scheduler;
        this.listeners = List.copyOf(listeners);
        this.random = random;
        current.set(directory.load().orElseThrow(() -> new IllegalStateException("no credentials in "
                + directory.dir() + "; join first (tresor cert join)")));
    }

    /** The credentials in use now. */
    public Credentials current() {
        return current.get();
    }

    /** When the next scheduled renewal runs (after {@link #start()}), or null. */
    public Instant nextRenewal() {
        return nextRenewal;
    }

    /** Schedules renewals from now on: the first at the current certificate's renewal time. */
    public void start() {
        schedule(policy.renewAt(current.get(), random));
    }

    /** Renews now, whatever the certificate's age; installs and announces the new credentials. */
    public synchronized Credentials renewNow() throws IssuanceException {
        Credentials before = current.get();
        Credentials fresh = renewal.renew(before, KeyMaterial.generateP256());
        if (!fresh.identity().equals(before.identity())) {
            throw new IssuanceException(201, "the server renewed identity " + before.identity() + " as "
                    + fresh.identity() + "; refusing to install it", null);
        }
        directory.install(fresh);
        current.set(fresh);
        LOG.info("renewed {} (serial {} -> {}, valid until {})", fresh.identity(), before.serial(), fresh.serial(),
                fresh.notAfter());
        for (RenewalListener listener : listeners) {
            try {
                listener.renewed(fresh);
            } catch (RuntimeException e) {
                LOG.warn("renewal listener failed: {}", e.toString());
            }
        }
        return fresh;
    }

    /** Renews if the certificate has reached its renewal time ({@link RenewalPolicy#dueAt}); empty if not yet. */
    public Optional<Credentials> renewIfDue() throws IssuanceException {
        if (clock.instant().isBefore(policy.dueAt(current.get()))) {
            return Optional.empty();
        }
        return Optional.of(renewNow());
    }

    private void run() {
        if (closed) {
            return;
        }
        try {
            Credentials fresh = renewNow();
            synchronized (this) {
                attempt = 0;
            }
            schedule(policy.renewAt(fresh, random));
        } catch (IssuanceException | RuntimeException e) {
            int failures;
            synchronized (this) {
                failures = ++attempt;
            }
            Instant retryAt = clock.instant().plus(policy.backoff(failures));
            LOG.warn("renewing {} failed (attempt {}), retrying at {}: {}", current.get().identity(), failures, retryAt,
                    e.getMessage());
            for (RenewalListener listener : listeners) {
                try {
                    listener.failed(e, failures, retryAt);
                } catch (RuntimeException ignored) {
                    LOG.warn("renewal listener failed: {}", ignored.toString());
                }
            }
            schedule(retryAt);
        }
    }

    private void schedule(Instant at) {
        if (closed) {
            return;
        }
        nextRenewal = at;
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        ScheduledFuture<?> previous = next.getAndSet(scheduler.schedule(this::run, delay, TimeUnit.MILLISECONDS));
        if (previous != null) {
            previous.cancel(false);
        }
    }

    /** Stops scheduling; the files stay as they are. */
    @Override
    public void close() {
        closed = true;
        ScheduledFuture<?> pending = next.getAndSet(null);
        if (pending != null) {
            pending.cancel(false);
        }
    }
}
