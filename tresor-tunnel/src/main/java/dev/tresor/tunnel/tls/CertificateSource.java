package dev.tresor.tunnel.tls;

import java.util.function.Consumer;

/**
 * Where a tunnel's own certificate and key come from. The TLS layer asks {@link #current()} at
 * every handshake, so a new certificate is used by the next connection while open connections
 * keep the session they negotiated.
 *
 * <p>Implementations: {@link FileCertificateSource} (files written by something else, e.g.
 * {@code tresor cert renew}, cert-manager or a Kubernetes secret volume, reloaded when they
 * change). A managed source (a join token once, then self-renewal at half-life) implements the
 * same interface and calls its listeners after each renewal.
 */
public interface CertificateSource extends AutoCloseable {

    /** The key and chain to present now. Never null: a source that has nothing valid fails at construction. */
    KeyMaterial current();

    /**
     * Registers a listener called (on the source's own thread) after {@link #current()} changed.
     * Listeners must not block.
     */
    void onChange(Consumer<KeyMaterial> listener);

    /** Where the material comes from, for log lines and errors (e.g. the two file names). */
    String describe();

    /** Stops watching or renewing; {@link #current()} keeps answering the last material. */
    @Override
    void close();
}
