package dev.tresor.client.api;

import javax.net.ssl.SSLContext;

/**
 * Where a client's TLS context comes from. {@link #generation()} changes when the context would
 * present other credentials (a renewed certificate), so long-running clients rebuild their
 * connections with it and a renewal needs no restart.
 */
public interface TlsSource {

    SSLContext context();

    Object generation();

    /** Credentials that never change (a CLI command, a rotation job). */
    static TlsSource fixed(SSLContext context) {
        return new TlsSource() {
            @Override
            public SSLContext context() {
                return context;
            }

            @Override
            public Object generation() {
                return context;
            }
        };
    }
}
