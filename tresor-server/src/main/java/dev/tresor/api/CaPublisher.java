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
    /** Several PEM CRLs (no registered media type for a bundle of them). */
    public static final String PEM_CRLS_TYPE = "application/x-pem-file";

    /**
     * A retired CA still trusted until {@code trustUntil} (the overlap of a rollover); {@code signer}
     * is that CA with its (sealed) key, which signs its own CRL, or null when the key file is gone.
     */
    public record Retired(X509Certificate certificate, Instant trustUntil, CertificateAuthority signer) {
        public Retired(X509Certificate certificate, Instant trustUntil) {
            this(certificate, trustUntil, null);
        }
    }

    /** The CA that issues and the retired CAs still trusted: swapped as one by an online rollover. */
    private record State(CertificateAuthority ca, List<Retired> retired) {}

    private final java.util.concurrent.atomic.AtomicReference<State> state;
    private final WorkloadIdentity identity;
    private final Clock clock;

    public CaPublisher(CertificateAuthority ca, WorkloadIdentity identity, List<Retired> retired, Clock clock) {
        this.state = new java.util.concurrent.atomic.AtomicReference<>(new State(ca, List.copyOf(retired)));
        this.identity = identity;
        this.clock = clock;
    }

    /** The CA that issues now. */
    public CertificateAuthority ca() {
        return state.get().ca();
    }

    /** The retired CAs, as configured or added by rollovers since the start (newest first). */
    public List<Retired> retired() {
        return state.get().retired();
    }

    /**
     * An online rollover: {@code next} issues from now on, and the CA it replaces is trusted (and
     * publishes its CRL) until {@code trustUntil}.
     */
    public synchronized void rollOver(CertificateAuthority next, Instant trustUntil) {
        State now = state.get();
        List<Retired> retired = new ArrayList<>();
        retired.add(new Retired(now.ca().certificate(), trustUntil, now.ca()));
        retired.addAll(now.retired());
        state.set(new State(next, List.copyOf(retired)));
    }

    /** The trust bundle: the active CA, then every retired CA whose overlap has not ended. */
    public List<X509Certificate> bundle() {
        Instant now = clock.instant();
        State st = state.get();
        List<X509Certificate> out = new ArrayList<>();
        out.add(st.ca().certificate());
        for (Retired r : st.retired()) {
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
        for (Retired r : state.get().retired()) {
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

    /**
     * The DER encoding of a freshly signed CRL of the active CA. It lists every revocation the ACL
     * head seals, whichever CA issued the certificate: serials are random, so listing another CA's
     * serial revokes nothing else, and a relying party that matches CRLs by issuer name alone
     * (the same name survives a rollover) also refuses the retired CA's revoked certificates.
     */
    public byte[] crlDer() {
        return encode(crlOf(ca(), entries()));
    }

    /**
     * One CRL per CA of the trust bundle whose key is at hand (PEM, active CA first): what a
     * relying party that checks the CRL's signer against the certificate's issuer key needs
     * during a rollover's overlap ({@code GET /v1/ca/crls}).
     */
    public String crlsPem() {
        List<CertificateAuthority.CrlEntry> entries = entries();
        State st = state.get();
        StringBuilder out = new StringBuilder(pemCrl(encode(crlOf(st.ca(), entries))));
        Instant now = clock.instant();
        for (Retired r : st.retired()) {
            if (r.signer() != null && now.isBefore(r.trustUntil())) {
                out.append(pemCrl(encode(crlOf(r.signer(), entries))));
            }
        }
        return out.toString();
    }

    /** The retired CAs still trusted whose key is missing, so that no CRL of theirs can be signed. */
    public List<X509Certificate> retiredWithoutKey() {
        Instant now = clock.instant();
        return state.get().retired().stream().filter(r -> r.signer() == null && now.isBefore(r.trustUntil()))
                .map(Retired::certificate).toList();
    }

    private List<CertificateAuthority.CrlEntry> entries() {
        return identity.revoked().stream()
                .map(r -> new CertificateAuthority.CrlEntry(r.serial(), r.revokedAt()))
                .toList();
    }

    private static java.security.cert.X509CRL crlOf(CertificateAuthority signer, List<CertificateAuthority.CrlEntry> entries) {
        return signer.crl(entries, CRL_VALIDITY);
    }

    private static byte[] encode(java.security.cert.X509CRL crl) {
        try {
            return crl.getEncoded();
        } catch (CRLException e) {
            throw new IllegalStateException("cannot encode the CRL", e);
        }
    }

    private static String pemCrl(byte[] der) {
        return "-----BEGIN X509 CRL-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END X509 CRL-----\n";
    }

    ApiResponse bundleResponse() {
        return raw(PEM_CHAIN_TYPE, bundlePem().getBytes(StandardCharsets.US_ASCII));
    }

    ApiResponse crl() {
        return raw(CRL_TYPE, crlDer());
    }

    ApiResponse crls() {
        return raw(PEM_CRLS_TYPE, crlsPem().getBytes(StandardCharsets.US_ASCII));
    }

    private static ApiResponse raw(String type, byte[] bytes) {
        WipeableBuffer out = new WipeableBuffer(bytes.length);
        out.write(bytes, 0, bytes.length);
        return new ApiResponse(200, type, out, null, null, null);
    }
}
