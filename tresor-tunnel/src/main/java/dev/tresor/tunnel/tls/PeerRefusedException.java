package dev.tresor.tunnel.tls;

import java.security.cert.CertificateException;

/**
 * Thrown by {@link PeerVerifier} to fail a handshake; carries the reason and the identity the
 * peer claimed, so the tunnel can log and count it. The JDK turns it into a TLS alert to the peer.
 */
public final class PeerRefusedException extends CertificateException {

    private final Refusal reason;
    private final String identity;
    private final String serial;

    public PeerRefusedException(Refusal reason, String identity, String serial, String message) {
        super(message);
        this.reason = reason;
        this.identity = identity;
        this.serial = serial;
    }

    public Refusal reason() {
        return reason;
    }

    /** The identity the certificate names, or "-" if it names none. */
    public String identity() {
        return identity;
    }

    /** The serial (hex) of the refused certificate, or "-". */
    public String serial() {
        return serial;
    }

    /** The refusal somewhere in a handshake exception's causes, if the verifier threw it. */
    public static java.util.Optional<PeerRefusedException> in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PeerRefusedException refused) {
                return java.util.Optional.of(refused);
            }
            for (Throwable suppressed : t.getSuppressed()) {
                if (suppressed instanceof PeerRefusedException refused) {
                    return java.util.Optional.of(refused);
                }
            }
        }
        return java.util.Optional.empty();
    }
}
