package dev.tresor.tunnel.tls;

import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * What a tunnel presents in its handshakes: a certificate chain (leaf first) and the leaf's
 * private key. Immutable; a renewal produces a new instance.
 */
public record KeyMaterial(List<X509Certificate> chain, PrivateKey key) {

    public KeyMaterial {
        Objects.requireNonNull(key, "key");
        chain = List.copyOf(Objects.requireNonNull(chain, "chain"));
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain needs at least the leaf certificate");
        }
    }

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    public BigInteger serial() {
        return leaf().getSerialNumber();
    }

    /** Serial in hex, as {@code openssl x509 -serial} prints it (lowercase here). */
    public String serialHex() {
        return serial().toString(16);
    }
}
