package dev.tresor.agent.feed;

import dev.tresor.client.api.TlsSource;

/**
 * The agent's TLS identity towards the server: a {@link TlsSource} whose {@link #generation()}
 * changes whenever the key or certificate did (a renewal, new files), so the HTTP client is
 * rebuilt and new connections present the new certificate without restarting the agent.
 */
public interface Identity extends TlsSource, AutoCloseable {

    /** Who the agent is (its SPIFFE ID), for logs and status. */
    String name();

    /** The serial (hex) of the certificate new connections present, for the status. */
    String serial();

    @Override
    default void close() {}
}
