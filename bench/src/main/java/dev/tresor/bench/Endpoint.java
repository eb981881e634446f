package dev.tresor.bench;

import dev.tresor.ca.TrustMaterial;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLSocketFactory;

/**
 * Where a load goes: a loopback host and port, the client certificate to present, and the TLS
 * protocol and cipher suite to pin (so two servers are compared on the same ones).
 */
record Endpoint(String host, int port, SSLSocketFactory tls, List<String> protocols, List<String> cipherSuites) {

    Endpoint {
        requireLoopback(host);
    }

    static Endpoint of(String host, int port, Path cert, Path key, Path ca, String protocol, String cipher) {
        SSLSocketFactory factory = TrustMaterial.clientContext(cert, key, ca).getSocketFactory();
        return new Endpoint(host, port, factory,
                protocol == null || protocol.isBlank() ? List.of() : List.of(protocol),
                cipher == null || cipher.isBlank() ? List.of() : List.of(cipher));
    }

    Endpoint withPort(int otherPort) {
        return new Endpoint(host, otherPort, tls, protocols, cipherSuites);
    }

    /** Load is only ever sent to this machine. */
    static void requireLoopback(String host) {
        try {
            if (!InetAddress.getByName(host).isLoopbackAddress()) {
                throw new IllegalArgumentException(host + " is not a loopback address; benchmarks only target this machine");
            }
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("unknown host " + host, e);
        }
    }
}
