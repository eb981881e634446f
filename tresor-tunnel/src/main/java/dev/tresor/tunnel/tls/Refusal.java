package dev.tresor.tunnel.tls;

/**
 * Why a connection was refused; the metric label ({@code reason}) is {@link #label()}. See
 * docs/tunnel.md for what each one means and what to do about it.
 */
public enum Refusal {
    /** The peer sent no certificate (server side) or the TLS handshake failed for another reason (protocol, cipher, alert). */
    HANDSHAKE_FAILED("handshake_failed"),
    /** The certificate does not chain to a CA of the trust bundle (another CA, self-signed, bad signature, wrong key usage). */
    UNTRUSTED("untrusted"),
    EXPIRED("expired"),
    NOT_YET_VALID("not_yet_valid"),
    /** Listed in the CRL. */
    REVOKED("revoked"),
    /** The certificate carries no usable SPIFFE ID (no URI SAN, several, or a malformed one). */
    NO_IDENTITY("no_identity"),
    /** A valid certificate whose identity is not on the allow list (server) or is not the expected one (client). */
    IDENTITY_NOT_ALLOWED("identity_not_allowed"),
    /** The handshake did not finish within the handshake timeout. */
    HANDSHAKE_TIMEOUT("handshake_timeout"),
    /** Already at the tunnel's maximum of open connections. */
    MAX_CONNECTIONS("max_connections"),
    /** The target did not accept the forwarded connection within the connect timeout. */
    TARGET_UNREACHABLE("target_unreachable"),
    /** The tunnel is shutting down. */
    SHUTTING_DOWN("shutting_down");

    private final String label;

    Refusal(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
