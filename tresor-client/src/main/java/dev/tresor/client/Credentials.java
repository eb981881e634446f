package dev.tresor.client;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A workload's key material: its private key, its certificate chain (leaf first) and the trust
 * bundle of its trust domain (the CA certificates peers' certificates are checked against).
 * Immutable; {@link #toString()} never shows the key.
 */
public record Credentials(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trustBundle) {

    public Credentials {
        if (key == null || chain == null || chain.isEmpty() || trustBundle == null || trustBundle.isEmpty()) {
            throw new IllegalArgumentException("credentials need a key, a certificate chain and a trust bundle");
        }
        chain = List.copyOf(chain);
        trustBundle = List.copyOf(trustBundle);
        if (!KeyMaterial.matches(key, chain.getFirst().getPublicKey())) {
            throw new IllegalArgumentException("the private key does not belong to certificate serial "
                    + chain.getFirst().getSerialNumber().toString(16));
        }
    }

    public X509Certificate certificate() {
        return chain.getFirst();
    }

    /** The serial in lower-case hex, as the server's API and audit log print it. */
    public String serial() {
        return serialNumber().toString(16);
    }

    public BigInteger serialNumber() {
        return certificate().getSerialNumber();
    }

    public Instant notBefore() {
        return certificate().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    public Duration lifetime() {
        return Duration.between(notBefore(), notAfter());
    }

    /** The identity the certificate proves: its URI SAN (a SPIFFE ID), or its subject if it has none. */
    public String identity() {
        try {
            Collection<List<?>> sans = certificate().getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(6).equals(san.get(0))) {
                        return (String) san.get(1);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // fall through to the subject
        }
        return certificate().getSubjectX500Principal().getName();
    }

    /**
     * A TLS context presenting these credentials and trusting {@code trusted} (the server's CA when
     * calling Tresor; {@link #trustBundle()} between workloads).
     */
    public SSLContext sslContext(List<X509Certificate> trusted) {
        try {
            char[] password = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("workload", key, password, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), trustManagers(trusted), null);
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a TLS context from the credentials: " + e.getMessage(), e);
        }
    }

    static javax.net.ssl.TrustManager[] trustManagers(List<X509Certificate> trusted) throws GeneralSecurityException {
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            int i = 0;
            for (X509Certificate ca : trusted) {
                anchors.setCertificateEntry("ca-" + i++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(anchors);
            return tmf.getTrustManagers();
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    @Override
    public String toString() {
        return "Credentials[identity=" + identity() + ", serial=" + serial() + ", notAfter=" + notAfter() + ", key=(hidden)]";
    }
}
