package dev.tresor.ca;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS material from PEM files: in-memory PKCS#12 key and trust stores, and SSLContexts that
 * enable only TLS 1.3 and 1.2.
 *
 * <p>The key stores never touch the disk, so their password protects nothing; it exists only
 * because the KeyStore API requires one. Callers handing a store to Jetty pass the same password
 * as key manager password.
 *
 * <p>Contexts from {@link #serverContext} require a client certificate on every socket and engine
 * they create (Tresor's API is mutual TLS only). Neither context verifies host names: Tresor
 * peers are authenticated by identity ({@link Identities#identityOf}), and HTTPS clients that
 * want host name checks set {@code endpointIdentificationAlgorithm} themselves.
 */
public final class TrustMaterial {

    /** The only protocols ever enabled, newest first. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private static final String ALIAS = "tresor";
    private static final char[] IN_MEMORY_PASSWORD = "in-memory-only".toCharArray();

    private TrustMaterial() {}

    /** A server context: our certificate chain and key, trusting clients issued under {@code caBundle}, client certificates required. */
    public static SSLContext serverContext(Path cert, Path key, Path caBundle) {
        return serverContext(keyStore(cert, key, IN_MEMORY_PASSWORD), IN_MEMORY_PASSWORD, trustStore(caBundle));
    }

    /**
     * As {@link #serverContext(Path, Path, Path)}, also trusting {@code extraAnchors} for client
     * certificates (retired CAs during a rollover's overlap).
     */
    public static SSLContext serverContext(Path cert, Path key, Path caBundle, List<X509Certificate> extraAnchors) {
        List<X509Certificate> anchors = new ArrayList<>(Pem.readCertificates(caBundle));
        anchors.addAll(extraAnchors);
        return serverContext(keyStore(cert, key, IN_MEMORY_PASSWORD), IN_MEMORY_PASSWORD, trustStore(anchors));
    }

    /**
     * A server context that asks for no client certificate: only for the join port, whose single
     * route is for workloads that have none yet. Everything else uses {@link #serverContext}.
     */
    public static SSLContext serverContextWithoutClientAuth(Path cert, Path key, Path caBundle) {
        return new RestrictedSslContext(context(keyStore(cert, key, IN_MEMORY_PASSWORD), IN_MEMORY_PASSWORD,
                trustStore(caBundle)), PROTOCOLS, false);
    }

    /** A client context: our certificate chain and key, trusting servers issued under {@code caBundle}. */
    public static SSLContext clientContext(Path cert, Path key, Path caBundle) {
        return clientContext(keyStore(cert, key, IN_MEMORY_PASSWORD), IN_MEMORY_PASSWORD, trustStore(caBundle));
    }

    /** A client context without a certificate of its own, trusting servers issued under {@code caBundle}. */
    public static SSLContext clientContext(Path caBundle) {
        try {
            KeyStore none = KeyStore.getInstance("PKCS12");
            none.load(null, null);
            return clientContext(none, IN_MEMORY_PASSWORD, trustStore(caBundle));
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build TLS context: " + e.getMessage(), e);
        }
    }

    /** A server context from stores (see {@link #keyStore} and {@link #trustStore}); client certificates required. */
    public static SSLContext serverContext(KeyStore keyStore, char[] keyPassword, KeyStore trustStore) {
        return new RestrictedSslContext(context(keyStore, keyPassword, trustStore), PROTOCOLS, true);
    }

    /** A client context from stores (see {@link #keyStore} and {@link #trustStore}). */
    public static SSLContext clientContext(KeyStore keyStore, char[] keyPassword, KeyStore trustStore) {
        return new RestrictedSslContext(context(keyStore, keyPassword, trustStore), PROTOCOLS, false);
    }

    /**
     * An in-memory PKCS#12 key store holding the chain of {@code cert} (leaf first) and the
     * private key of {@code key}, which must belong to the leaf.
     */
    public static KeyStore keyStore(Path cert, Path key, char[] password) {
        List<X509Certificate> chain = Pem.readCertificates(cert);
        PrivateKey privateKey = Pem.readPrivateKey(key);
        try {
            return keyStore(chain, privateKey, password);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("certificate file " + cert + " and key file " + key + ": " + e.getMessage(), e);
        }
    }

    /** An in-memory PKCS#12 key store holding {@code chain} (leaf first) and its private key. */
    public static KeyStore keyStore(List<X509Certificate> chain, PrivateKey key, char[] password) {
        if (chain == null || chain.isEmpty()) {
            throw new IllegalArgumentException("no certificate chain");
        }
        if (password == null || password.length == 0) {
            throw new IllegalArgumentException("a key store password is required by the KeyStore API");
        }
        if (!SubjectKeys.matches(key, chain.getFirst().getPublicKey())) {
            throw new IllegalArgumentException("the private key does not belong to the first certificate "
                    + Identities.describe(chain.getFirst()));
        }
        for (int i = 0; i + 1 < chain.size(); i++) {
            // TLS peers expect leaf first, each certificate followed by its issuer; a shuffled file fails late and obscurely.
            if (!chain.get(i).getIssuerX500Principal().equals(chain.get(i + 1).getSubjectX500Principal())) {
                throw new IllegalArgumentException("certificate #" + (i + 2) + " did not issue certificate #" + (i + 1)
                        + "; the chain must be in leaf-first order");
            }
        }
        try {
            KeyStore store = emptyPkcs12();
            store.setKeyEntry(ALIAS, key, password, chain.toArray(X509Certificate[]::new));
            return store;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build in-memory key store: " + e.getMessage(), e);
        }
    }

    /** An in-memory PKCS#12 trust store of the CA certificates in {@code caBundle}. */
    public static KeyStore trustStore(Path caBundle) {
        List<X509Certificate> anchors = Pem.readCertificates(caBundle);
        try {
            return trustStore(anchors);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("CA bundle " + caBundle + ": " + e.getMessage(), e);
        }
    }

    /**
     * An in-memory PKCS#12 trust store of CA certificates. Non-CA certificates are refused: a leaf
     * in a trust bundle would silently become a trust anchor for whoever holds its key.
     */
    public static KeyStore trustStore(List<X509Certificate> caCertificates) {
        if (caCertificates == null || caCertificates.isEmpty()) {
            throw new IllegalArgumentException("no CA certificates to trust");
        }
        try {
            KeyStore store = emptyPkcs12();
            for (int i = 0; i < caCertificates.size(); i++) {
                X509Certificate ca = caCertificates.get(i);
                if (ca.getBasicConstraints() < 0) {
                    throw new IllegalArgumentException("certificate #" + (i + 1) + " " + Identities.describe(ca)
                            + " is not a CA certificate and cannot be a trust anchor");
                }
                store.setCertificateEntry("ca-" + i, ca);
            }
            return store;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build in-memory trust store: " + e.getMessage(), e);
        }
    }

    private static SSLContext context(KeyStore keyStore, char[] keyPassword, KeyStore trustStore) {
        try {
            // "PKIX" key manager: chooses among entries by algorithm constraints and validity, unlike legacy SunX509.
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
            keyManagers.init(keyStore, keyPassword);
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
            trustManagers.init(trustStore);
            X509ExtendedTrustManager pkix = Arrays.stream(trustManagers.getTrustManagers())
                    .filter(X509ExtendedTrustManager.class::isInstance).map(X509ExtendedTrustManager.class::cast)
                    .findFirst().orElseThrow(() -> new IllegalStateException("the PKIX trust manager is missing"));
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(),
                    new TrustManager[] {new AnchoredTrustManager(pkix, anchors(trustStore))}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build TLS context: " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> anchors(KeyStore trustStore) throws GeneralSecurityException {
        List<X509Certificate> anchors = new ArrayList<>();
        for (String alias : Collections.list(trustStore.aliases())) {
            if (trustStore.getCertificate(alias) instanceof X509Certificate certificate) {
                anchors.add(certificate);
            }
        }
        return anchors;
    }

    private static KeyStore emptyPkcs12() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("cannot initialise an empty PKCS#12 store", e);
        }
        return store;
    }
}
