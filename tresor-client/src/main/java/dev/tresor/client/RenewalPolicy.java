package dev.tresor.client;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * When to renew: at {@code fraction} of the certificate's lifetime (0.5: half-life), minus a random
 * jitter of up to {@code jitter} of the lifetime, so many workloads started together do not renew
 * together, and never later than the fraction. A failed renewal is retried after
 * {@code minBackoff}, doubling up to {@code maxBackoff}.
 */
public record RenewalPolicy(double fraction, double jitter, Duration minBackoff, Duration maxBackoff) {

    /** Half-life, up to 10 % of the lifetime earlier; retries from 1 s up to 5 min. */
    public static final RenewalPolicy DEFAULT = new RenewalPolicy(0.5, 0.1, Duration.ofSeconds(1), Duration.ofMinutes(5));

    public RenewalPolicy {
        if (!(fraction > 0 && fraction < 1) || !(jitter >= 0 && jitter < fraction)) {
            throw new IllegalArgumentException("fraction must be in (0, 1) and jitter in [0, fraction)");
        }
        if (minBackoff == null || maxBackoff == null || minBackoff.isNegative() || minBackoff.isZero()
                || maxBackoff.compareTo(minBackoff) < 0) {
            throw new IllegalArgumentException("backoff must be positive and minBackoff <= maxBackoff");
        }
    }

    /** When certificate {@code credentials} should be renewed; {@code random} draws the jitter. */
    public Instant renewAt(Credentials credentials, RandomGenerator random) {
        long lifetimeMillis = credentials.lifetime().toMillis();
        double at = lifetimeMillis * (fraction - jitter * random.nextDouble());
        return credentials.notBefore().plusMillis((long) at);
    }

    /** The latest renewal time, without jitter (what {@code tresor cert renew} checks). */
    public Instant dueAt(Credentials credentials) {
        return credentials.notBefore().plusMillis((long) (credentials.lifetime().toMillis() * fraction));
    }

    /** The wait before retry number {@code attempt} (1 = first retry). */
    public Duration backoff(int attempt) {
        Duration wait = minBackoff;
        for (int i = 1; i < attempt && wait.compareTo(maxBackoff) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(maxBackoff) > 0 ? maxBackoff : wait;
    }
}
