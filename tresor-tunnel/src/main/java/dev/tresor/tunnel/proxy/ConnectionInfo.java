package dev.tresor.tunnel.proxy;

import java.time.Instant;

/**
 * One open forwarded connection, as shown in logs and to tests.
 *
 * @param peerIdentity the SPIFFE ID of the TLS peer (the client for a server tunnel, the server for a client tunnel)
 * @param peerSerial the serial (hex) of the certificate the peer presented
 * @param localSerial the serial (hex) of the certificate this tunnel presented on it
 */
public record ConnectionInfo(long id, String from, String peerIdentity, String peerSerial, String localSerial,
        Instant openedAt) {
}
