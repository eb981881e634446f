package dev.tresor.client;

import java.time.Instant;

/** Told about renewals: a tunnel swaps its TLS context in {@link #renewed}, keeping open connections. */
public interface RenewalListener {

    /** New credentials are installed (files swapped) and in use from now on. */
    void renewed(Credentials fresh);

    /** A renewal failed; the last good credentials stay in place. {@code retryAt} is null if it will not be retried. */
    default void failed(Exception problem, int attempt, Instant retryAt) {}
}
