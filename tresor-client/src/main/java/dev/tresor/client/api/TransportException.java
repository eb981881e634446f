package dev.tresor.client.api;

import java.io.IOException;
import java.net.URI;

/**
 * No answer came from {@code node}. {@link #neverSent()} is true when the request certainly did
 * not reach it (connection refused, connect timeout, unresolvable host): only then may a write
 * without an idempotency key go to another node. The cause is the JDK's exception, whose chain
 * carries the TLS alert or socket error that callers turn into advice.
 */
public final class TransportException extends RuntimeException {

    private final URI node;
    private final boolean neverSent;

    public TransportException(URI node, boolean neverSent, IOException cause) {
        super((neverSent ? "cannot reach Tresor at " : "cannot talk to Tresor at ") + node + ": " + rootMessage(cause), cause);
        this.node = node;
        this.neverSent = neverSent;
    }

    public URI node() {
        return node;
    }

    public boolean neverSent() {
        return neverSent;
    }

    @Override
    public synchronized IOException getCause() {
        return (IOException) super.getCause();
    }

    /** The innermost message: the JDK's outer HTTP exceptions often have none ("Connection refused" is deep). */
    static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
