package dev.tresor.agent.feed;

import javax.net.ssl.SSLContext;

/**
 * The agent's TLS identity towards the server. {@link #generation()} changes whenever the key or
 * certificate did (a renewal, new files), so the HTTP client is rebuilt and new connections
 * present the new certificate without restarting the agent.
 */
public interface Identity extends AutoCloseable {

    /** Current TLS context (client certificate + the server's CA). */
    SSLContext sslContext();

    /** Changes when {@link #sslContext()} would present other credentials. */
    Object generation();

    /** Who the agent is (its SPIFFE ID), for logs and status. */
    String name();

    /** The serial (hex) of the certificate new connections present, for the status. */
    String serial();

    @Override
    default void close() {}
}
