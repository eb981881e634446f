package dev.tresor.tunnel.tls;

import dev.tresor.ca.Identities;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Decides whether a peer certificate may connect, in this order (the first failure is the
 * reason reported): it names exactly one valid SPIFFE ID, it is within its validity period, it
 * chains to the trust bundle (the JDK's PKIX checks, including extended key usage: clientAuth
 * for clients, serverAuth for servers), it is not revoked, and its identity is allowed.
 *
 * <p>The same checks minus the chain run again after every handshake ({@link #authorize}):
 * a resumed TLS session skips the trust manager, and a certificate revoked since the session
 * was made must still be refused.
 */
public final class PeerVerifier extends X509ExtendedTrustManager {

    /** Which certificates this verifier checks: those of clients (we are the server) or of servers. */
    public enum Peer {
        CLIENT, SERVER
    }

    private final Peer peer;
    private final TrustBundle bundle;
    private final RevocationList revocations;
    private final AllowList allowed;
    private final Clock clock;

    /** {@code revocations} may be null (no CRL configured). */
    public PeerVerifier(Peer peer, TrustBundle bundle, RevocationList revocations, AllowList allowed, Clock clock) {
        this.peer = peer;
        this.bundle = bundle;
        this.revocations = revocations;
        this.allowed = allowed;
        this.clock = clock;
    }

    /** An accepted peer: its identity, certificate serial (hex) and the certificate (to re-check against a later CRL). */
    public record Accepted(String identity, String serial, X509Certificate certificate) {
    }

    /**
     * Identity, validity, revocation and allow list of an already validated chain.
     *
     * @throws PeerRefusedException with the reason
     */
    public Accepted authorize(X509Certificate[] chain) throws PeerRefusedException {
        if (chain == null || chain.length == 0) {
            throw new PeerRefusedException(Refusal.HANDSHAKE_FAILED, "-", "-", "the peer sent no certificate");
        }
        X509Certificate leaf = chain[0];
        String serial = leaf.getSerialNumber().toString(16);
        String identity;
        try {
            identity = Identities.identityOf(leaf);
        } catch (IllegalArgumentException e) {
            throw new PeerRefusedException(Refusal.NO_IDENTITY, "-", serial, e.getMessage());
        }
        if (!Identities.isUri(identity)) {
            throw new PeerRefusedException(Refusal.NO_IDENTITY, identity, serial, "certificate serial " + serial
                    + " names no SPIFFE ID (no URI subject alternative name; CN '" + identity + "')");
        }
        Instant now = clock.instant();
        if (now.isBefore(leaf.getNotBefore().toInstant())) {
            throw new PeerRefusedException(Refusal.NOT_YET_VALID, identity, serial, "certificate of " + identity
                    + " (serial " + serial + ") is not valid before " + leaf.getNotBefore().toInstant());
        }
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new PeerRefusedException(Refusal.EXPIRED, identity, serial, "certificate of " + identity
                    + " (serial " + serial + ") expired at " + leaf.getNotAfter().toInstant());
        }
        if (revocations != null && revocations.isRevoked(leaf)) {
            throw new PeerRefusedException(Refusal.REVOKED, identity, serial, "certificate of " + identity
                    + " (serial " + serial + ") is revoked by the CRL");
        }
        if (!allowed.allows(identity)) {
            throw new PeerRefusedException(Refusal.IDENTITY_NOT_ALLOWED, identity, serial, identity + " is not "
                    + (peer == Peer.CLIENT ? "on the allow list " : "the expected server identity ") + allowed);
        }
        return new Accepted(identity, serial, leaf);
    }

    private void verify(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
            throws CertificateException {
        // Validity and identity first: an expired certificate is reported as expired, not as "untrusted".
        PeerRefusedException deferred = null;
        try {
            authorize(chain);
        } catch (PeerRefusedException e) {
            if (e.reason() == Refusal.NO_IDENTITY || e.reason() == Refusal.EXPIRED
                    || e.reason() == Refusal.NOT_YET_VALID || e.reason() == Refusal.HANDSHAKE_FAILED) {
                throw e;
            }
            deferred = e; // revoked or not allowed, but only if the chain is trusted at all
        }
        X509ExtendedTrustManager pkix = bundle.current().pkix();
        try {
            if (peer == Peer.CLIENT) {
                if (engine != null) {
                    pkix.checkClientTrusted(chain, authType, engine);
                } else {
                    pkix.checkClientTrusted(chain, authType, socket);
                }
            } else if (engine != null) {
                pkix.checkServerTrusted(chain, authType, engine);
            } else {
                pkix.checkServerTrusted(chain, authType, socket);
            }
        } catch (CertificateException e) {
            String identity = deferred != null ? deferred.identity() : identityOrDash(chain[0]);
            throw new PeerRefusedException(Refusal.UNTRUSTED, identity, chain[0].getSerialNumber().toString(16),
                    "certificate of " + identity + " does not chain to the trust bundle " + bundle.file() + ": "
                            + e.getMessage());
        }
        if (deferred != null) {
            throw deferred;
        }
    }

    private static String identityOrDash(X509Certificate leaf) {
        try {
            return Identities.identityOf(leaf);
        } catch (IllegalArgumentException e) {
            return "-";
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        requirePeer(Peer.CLIENT);
        verify(chain, authType, socket, null);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        requirePeer(Peer.CLIENT);
        verify(chain, authType, null, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        requirePeer(Peer.CLIENT);
        verify(chain, authType, null, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        requirePeer(Peer.SERVER);
        verify(chain, authType, socket, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        requirePeer(Peer.SERVER);
        verify(chain, authType, null, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        requirePeer(Peer.SERVER);
        verify(chain, authType, null, null);
    }

    private void requirePeer(Peer expected) throws CertificateException {
        if (peer != expected) {
            throw new CertificateException("this tunnel verifies " + peer + " certificates only");
        }
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return bundle.anchors().toArray(X509Certificate[]::new);
    }
}
