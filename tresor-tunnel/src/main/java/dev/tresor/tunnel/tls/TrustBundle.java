package dev.tresor.tunnel.tls;

import dev.tresor.ca.Pem;
import dev.tresor.ca.TrustMaterial;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The CA certificates peers must chain to, from a PEM file reloaded when it changes (a CA
 * rollover publishes old and new CA together for a while). Chain building, signatures, validity,
 * key usage and algorithm constraints are the JDK's PKIX trust manager's; the tunnel adds
 * revocation and identity on top ({@link PeerVerifier}).
 */
public final class TrustBundle {

    /** The anchors and the JDK trust manager built from them, swapped together. */
    record Loaded(List<X509Certificate> anchors, X509ExtendedTrustManager pkix) {
    }

    private final Path file;
    private final ReloadListener events;
    private final AtomicReference<Loaded> current = new AtomicReference<>();

    public TrustBundle(Path file, FilePoller poller, ReloadListener events) {
        this.file = file;
        this.events = events;
        current.set(load(file));
        if (poller != null) {
            poller.watch(List.of(file), this::reload);
        }
    }

    static Loaded load(Path file) {
        List<X509Certificate> anchors = Pem.readCertificates(file);
        KeyStore store = TrustMaterial.trustStore(anchors);
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            X509ExtendedTrustManager pkix = Arrays.stream(factory.getTrustManagers())
                    .filter(X509ExtendedTrustManager.class::isInstance).map(X509ExtendedTrustManager.class::cast)
                    .findFirst().orElseThrow(() -> new IllegalStateException("the JDK's PKIX trust manager is missing"));
            return new Loaded(List.copyOf(anchors), pkix);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("CA bundle " + file + ": cannot build a trust manager: " + e.getMessage(), e);
        }
    }

    void reload() {
        try {
            Loaded loaded = load(file);
            current.set(loaded);
            events.reloaded("trust bundle", loaded.anchors().size() + " CA certificate(s) from " + file);
        } catch (RuntimeException e) {
            events.reloadFailed("trust bundle", "CA bundle " + file + ": " + e.getMessage()
                    + "; still using the previous bundle");
        }
    }

    Loaded current() {
        return current.get();
    }

    public List<X509Certificate> anchors() {
        return current.get().anchors();
    }

    public Path file() {
        return file;
    }
}
