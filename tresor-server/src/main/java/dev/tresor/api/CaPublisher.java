package dev.tresor.api;

import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.Pem;
import dev.tresor.identity.WorkloadIdentity;
import java.nio.charset.StandardCharsets;
import java.security.cert.CRLException;
import java.time.Duration;
import java.util.List;

/**
 * What the CA publishes: its trust bundle (PEM) and a signed CRL (DER) of the revoked, unexpired
 * certificates it issued. Both are public: served on the API and on the management port.
 */
public final class CaPublisher {

    /** How long a CRL is valid (nextUpdate): relying parties fetch a new one at least this often. */
    public static final Duration CRL_VALIDITY = Duration.ofHours(1);
    public static final String PEM_CHAIN_TYPE = "application/pem-certificate-chain";
    public static final String CRL_TYPE = "application/pkix-crl";

    private final CertificateAuthority ca;
    private final WorkloadIdentity identity;

    public CaPublisher(CertificateAuthority ca, WorkloadIdentity identity) {
        this.ca = ca;
        this.identity = identity;
    }

    /** The trust bundle: every CA certificate a peer of this trust domain should trust. */
    public static String bundlePem(CertificateAuthority ca) {
        return Pem.encodeCertificates(List.of(ca.certificate()));
    }

    public String bundlePem() {
        return bundlePem(ca);
    }

    /** The DER encoding of a freshly signed CRL. */
    public byte[] crlDer() {
        String issuer = ca.certificate().getSubjectX500Principal().getName();
        List<CertificateAuthority.CrlEntry> entries = identity.revoked().stream()
                .filter(r -> issuer.equals(r.issuer()))
                .map(r -> new CertificateAuthority.CrlEntry(r.serial(), r.revokedAt()))
                .toList();
        try {
            return ca.crl(entries, CRL_VALIDITY).getEncoded();
        } catch (CRLException e) {
            throw new IllegalStateException("cannot encode the CRL", e);
        }
    }

    ApiResponse bundle() {
        return raw(PEM_CHAIN_TYPE, bundlePem().getBytes(StandardCharsets.US_ASCII));
    }

    ApiResponse crl() {
        return raw(CRL_TYPE, crlDer());
    }

    private static ApiResponse raw(String type, byte[] bytes) {
        WipeableBuffer out = new WipeableBuffer(bytes.length);
        out.write(bytes, 0, bytes.length);
        return new ApiResponse(200, type, out, null, null, null);
    }
}
