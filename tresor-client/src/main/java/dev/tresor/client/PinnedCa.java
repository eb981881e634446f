package dev.tresor.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Trust from a pinned CA fingerprint instead of a CA file: what a new workload is told together
 * with its join token ({@code sha256:HEX}, the SHA-256 of the CA certificate's DER encoding, as
 * {@code openssl x509 -noout -fingerprint -sha256} prints it, which is accepted as is). The server's TLS chain is fetched
 * in one handshake that sends no data; it is accepted only if one certificate in it has that
 * fingerprint (compared in constant time) and the server's leaf validates against that
 * certificate as the only trust anchor. Not trust on first use: the pin decides.
 */
public final class PinnedCa {

    private static final String PREFIX = "sha256:";

    private PinnedCa() {}

    /** The pin of a CA certificate, as an admin hands it out. */
    public static String fingerprint(X509Certificate ca) {
        try {
            return PREFIX + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /**
     * Parses a pin ({@code sha256:} and 64 hex digits; colons, spaces and case are ignored).
     *
     * @throws IllegalArgumentException saying what the pin should look like
     */
    public static byte[] parse(String pin) {
        String text = pin == null ? "" : pin.trim().toLowerCase(Locale.ROOT);
        // What openssl x509 -noout -fingerprint -sha256 prints: "sha256 Fingerprint=AB:CD:..."
        if (text.startsWith("sha256 fingerprint=")) {
            text = PREFIX + text.substring("sha256 fingerprint=".length());
        }
        if (!text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a CA fingerprint looks like sha256:<64 hex digits> (tresor token create "
                    + "prints it), got '" + (text.length() > 20 ? text.substring(0, 20) + "..." : text) + "'");
        }
        String hex = text.substring(PREFIX.length()).replace(":", "").replace(" ", "");
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("a CA fingerprint has 64 hex digits after sha256:, got " + hex.length()
                    + " characters");
        }
        return HexFormat.of().parseHex(hex);
    }

    /**
     * Connects to {@code url}, and returns the CA certificate of the server's chain matching {@code pin}.
     *
     * @throws IssuanceException if the server cannot be reached, presents no certificate with the
     *     pin, or its certificate does not validate against the pinned one
     */
    public static X509Certificate discover(URI url, String pin, Duration timeout) throws IssuanceException {
        byte[] wanted = parse(pin);
        AtomicReference<X509Certificate[]> presented = new AtomicReference<>();
        X509TrustManager capture = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("not a server");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                presented.set(chain.clone());
                // Ends the handshake here: nothing is sent to a server not yet trusted.
                throw new CertificateException("chain captured for the pin check");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        int port = url.getPort() == -1 ? 443 : url.getPort();
        try {
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, new TrustManager[] {capture}, null);
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket()) {
                socket.connect(new InetSocketAddress(url.getHost(), port), (int) timeout.toMillis());
                socket.setSoTimeout((int) timeout.toMillis());
                socket.startHandshake();
            } catch (IOException expected) {
                // The capturing trust manager always ends the handshake; the chain is what counts.
                if (presented.get() == null) {
                    throw new IssuanceException(0, "cannot reach " + url + " to check its CA fingerprint: "
                            + expected.getMessage(), expected);
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IssuanceException(0, "cannot set up TLS: " + e.getMessage(), e);
        }
        X509Certificate[] chain = presented.get();
        X509Certificate match = null;
        for (X509Certificate c : chain) {
            try {
                if (MessageDigest.isEqual(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()), wanted)) {
                    match = c;
                }
            } catch (GeneralSecurityException e) {
                throw new IssuanceException(0, "cannot read the server's certificate: " + e.getMessage(), e);
            }
        }
        X509Certificate pinned = match;
        if (pinned == null) {
            throw new IssuanceException(0, "the server at " + url + " presents no CA certificate with the fingerprint "
                    + pin.trim() + " (it presented " + chain.length + " certificate(s)); check the fingerprint you were given "
                    + "or use --ca-bundle", null);
        }
        try {
            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(pinned, null)));
            params.setRevocationEnabled(false);
            List<X509Certificate> path = Arrays.stream(chain).filter(c -> !c.equals(pinned)).toList();
            if (!path.isEmpty()) {
                CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path),
                        params);
            }
        } catch (GeneralSecurityException e) {
            throw new IssuanceException(0, "the server's certificate does not validate against the pinned CA: "
                    + e.getMessage(), e);
        }
        return pinned;
    }
}
