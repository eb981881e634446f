package dev.tresor.ca;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate issued by the {@link CertificateAuthority} and the chain to present with it.
 *
 * @param certificate the leaf
 * @param chain {@code [leaf, CA]}, the order TLS sends certificates in
 */
public record IssuedCertificate(X509Certificate certificate, List<X509Certificate> chain) {

    public IssuedCertificate {
        if (certificate == null) {
            throw new IllegalArgumentException("no certificate");
        }
        chain = List.copyOf(chain);
        if (chain.isEmpty() || !chain.getFirst().equals(certificate)) {
            throw new IllegalArgumentException("chain must start with the issued certificate");
        }
    }

    /** The chain as PEM, leaf first: what a workload writes to its certificate file. */
    public String chainPem() {
        return Pem.encodeCertificates(chain);
    }
}
