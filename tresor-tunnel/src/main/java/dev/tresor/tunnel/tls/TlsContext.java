package dev.tresor.tunnel.tls;

import dev.tresor.ca.TrustMaterial;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;

/**
 * One SSLContext per tunnel, built once: the key manager reads the current certificate at each
 * handshake and the verifier the current bundle and CRL, so nothing is rebuilt on renewal and
 * open connections are never touched. Only TLS 1.3 and 1.2 are enabled.
 *
 * <p>Session resumption would skip the certificate exchange, so a connection made after a
 * renewal could still show the old certificate: when our certificate, the bundle or the CRL
 * changes, the cached sessions are dropped ({@link #forgetSessions()}); clients also drop them
 * before each connection, so every tunnel connection is a full handshake.
 */
public final class TlsContext {

    private final SSLContext context;
    private final PeerVerifier verifier;

    public TlsContext(CertificateSource certificates, PeerVerifier verifier) {
        this.verifier = verifier;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new ReloadingKeyManager(certificates)}, new TrustManager[] {verifier},
                    new SecureRandom());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
        certificates.onChange(material -> forgetSessions());
    }

    public SSLContext context() {
        return context;
    }

    public PeerVerifier verifier() {
        return verifier;
    }

    /** Applies the protocol policy (and, for servers, client certificates required) to a socket. */
    public void configure(SSLSocket socket, boolean server) {
        SSLParameters parameters = socket.getSSLParameters();
        List<String> supported = List.of(socket.getSupportedProtocols());
        parameters.setProtocols(TrustMaterial.PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new));
        if (server) {
            parameters.setNeedClientAuth(true);
        }
        socket.setSSLParameters(parameters);
        socket.setUseClientMode(!server);
    }

    /** Invalidates every cached session, so the next handshakes are full ones with the current material. */
    public void forgetSessions() {
        forget(context.getClientSessionContext());
        forget(context.getServerSessionContext());
    }

    private static void forget(SSLSessionContext sessions) {
        if (sessions == null) {
            return;
        }
        for (byte[] id : Collections.list(sessions.getIds())) {
            var session = sessions.getSession(id);
            if (session != null) {
                session.invalidate();
            }
        }
    }
}
