package dev.tresor.api;

import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.Pem;
import dev.tresor.identity.WorkloadIdentity;
import java.nio.charset.StandardCharsets;
import java.security.cert.CRLException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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

    /** A retired CA still trusted until {@code trustUntil} (the overlap of a rollover). */
    public record Retired(X509Certificate certificate, Instant trustUntil) {}

    private final CertificateAuthority ca;
    private final WorkloadIdentity identity;
    private final List<Retired> retired;
    private final Clock clock;

    public CaPublisher(CertificateAuthority ca, WorkloadIdentity identity, List<Retired> retired, Clock clock) {
        this.ca = ca;
        this.identity = identity;
        this.retired = List.copyOf(retired);
        this.clock = clock;
    }

    public CertificateAuthority ca() {
        return ca;
    }

    /** The trust bundle: the active CA, then every retired CA whose overlap has not ended. */
    public List<X509Certificate> bundle() {
        Instant now = clock.instant();
        List<X509Certificate> out = new ArrayList<>();
        out.add(ca.certificate());
        for (Retired r : retired) {
            if (now.isBefore(r.trustUntil())) {
                out.add(r.certificate());
            }
        }
        return out;
    }

    public String bundlePem() {
        return Pem.encodeCertificates(bundle());
    }

    /**
     * Until when a peer certificate is trusted through a retired CA: the retired CA's
     * {@code trustUntil} if {@code leaf} was issued by one (its signature verifies under that CA's
     * key), or null (issued by the active CA or another trusted CA: no end from rollover).
     */
    public Instant trustUntil(X509Certificate leaf) {
        for (Retired r : retired) {
            if (!leaf.getIssuerX500Principal().equals(r.certificate().getSubjectX500Principal())) {
                continue;
            }
            try {
                leaf.verify(r.certificate().getPublicKey());
                return r.trustUntil();
            } catch (java.security.GeneralSecurityException notThisOne) {
                // another CA with the same name (the active one after a rollover)
            }
        }
        return null;
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

    ApiResponse bundleResponse() {
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
