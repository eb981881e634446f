package dev.tresor.client;

import java.net.URI;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A Tresor server as a workload reaches it: the API base URL ({@code https://host:port}) and the CA
 * certificate(s) its TLS certificate must chain to. There is no trust on first use: the caller
 * always says which CA to trust.
 */
public record ServerEndpoint(URI api, List<X509Certificate> trust) {

    public ServerEndpoint {
        if (api == null || !"https".equals(api.getScheme()) || api.getHost() == null) {
            throw new IllegalArgumentException("server address must be https://HOST:PORT, got " + api);
        }
        if (trust == null || trust.isEmpty()) {
            throw new IllegalArgumentException("the CA that signs the server's certificate is required (no trust on first use)");
        }
        trust = List.copyOf(trust);
    }
}
