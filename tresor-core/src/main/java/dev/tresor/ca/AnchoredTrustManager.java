package dev.tresor.ca;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's PKIX trust manager, plus the checks it leaves out.
 *
 * <ul>
 *   <li>A trust anchor's own basic constraints are not applied by PKIX (RFC 5280 §6.1 takes only
 *       its name and key), so a root with {@code pathLen:0} still accepted a chain through an
 *       intermediate CA. Here the number of CA certificates between the leaf and the anchor must
 *       be within the anchor's path length.</li>
 *   <li>A server is authenticated by the DNS names and IP addresses in its subject alternative
 *       names only. The JDK's host name check falls back to the subject CN when a certificate has
 *       no DNS name, and workload certificates carry the last segment of their identity as CN: a
 *       client certificate for {@code spiffe://…/client/localhost} passed as the server for
 *       {@code https://localhost}. A server certificate without a DNS or IP SAN is refused.</li>
 * </ul>
 */
final class AnchoredTrustManager extends X509ExtendedTrustManager {

    private static final int SAN_DNS = 2;
    private static final int SAN_IP = 7;

    private final X509ExtendedTrustManager delegate;
    private final List<X509Certificate> anchors;

    AnchoredTrustManager(X509ExtendedTrustManager delegate, List<X509Certificate> anchors) {
        this.delegate = delegate;
        this.anchors = List.copyOf(anchors);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
        checkPathLength(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, socket);
        checkPathLength(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, engine);
        checkPathLength(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkServerTrusted(chain, authType);
        checkServer(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, socket);
        checkServer(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, engine);
        checkServer(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }

    private void checkServer(X509Certificate[] chain) throws CertificateException {
        checkPathLength(chain);
        if (!hasHostSan(chain[0])) {
            throw new CertificateException("server certificate " + Identities.describe(chain[0]) + " names no DNS name "
                    + "or IP address in its subject alternative names; Tresor does not authenticate a server by its "
                    + "subject CN (a workload's client certificate is not a server certificate)");
        }
    }

    private void checkPathLength(X509Certificate[] chain) throws CertificateException {
        for (int i = 0; i < chain.length; i++) {
            for (X509Certificate anchor : anchors) {
                int between;
                if (Arrays.equals(encoded(chain[i]), encoded(anchor))) {
                    between = i - 1; // the peer sent the anchor itself
                } else if (issuedBy(chain[i], anchor)) {
                    between = i;
                } else {
                    continue;
                }
                int pathLength = anchor.getBasicConstraints();
                if (between > pathLength) {
                    throw new CertificateException("certificate " + Identities.describe(chain[0]) + " reaches trust anchor "
                            + Identities.describe(anchor) + " through " + between + " intermediate CA certificate(s), but "
                            + "the anchor allows " + pathLength + " (its pathLen constraint)");
                }
                return;
            }
        }
        // The delegate accepted the chain, so it ends at an anchor; reaching here means it was matched by name only.
        throw new CertificateException("certificate " + Identities.describe(chain[0]) + " does not chain to a trust anchor");
    }

    private static boolean issuedBy(X509Certificate certificate, X509Certificate anchor) {
        if (!certificate.getIssuerX500Principal().equals(anchor.getSubjectX500Principal())) {
            return false;
        }
        try {
            certificate.verify(anchor.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static byte[] encoded(X509Certificate certificate) throws CertificateException {
        return certificate.getEncoded();
    }

    private static boolean hasHostSan(X509Certificate certificate) throws CertificateParsingException {
        Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
        if (sans == null) {
            return false;
        }
        for (List<?> san : sans) {
            if (!san.isEmpty() && (Integer.valueOf(SAN_DNS).equals(san.get(0)) || Integer.valueOf(SAN_IP).equals(san.get(0)))) {
                return true;
            }
        }
        return false;
    }
}
