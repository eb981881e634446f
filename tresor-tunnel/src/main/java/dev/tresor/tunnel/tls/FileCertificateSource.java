package dev.tresor.tunnel.tls;

import dev.tresor.ca.Pem;
import dev.tresor.ca.TrustMaterial;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A certificate chain file and a private key file, reloaded when either changes. A new pair
 * that does not parse, whose key does not match the leaf, or whose leaf is already expired is
 * refused: the last good pair stays in use and the listener is told (a log line and a metric),
 * so a half-written renewal never takes a tunnel down. When the two files are replaced one
 * after the other, the pair in between is refused and the next poll picks up the matching pair.
 */
public final class FileCertificateSource implements CertificateSource {

    private static final char[] CHECK_ONLY = "check-only".toCharArray();

    private final Path certFile;
    private final Path keyFile;
    private final ReloadListener events;
    private final List<Consumer<KeyMaterial>> listeners = new CopyOnWriteArrayList<>();
    private volatile KeyMaterial current;

    /**
     * Loads the pair now (failing with a message naming the file if it is not usable) and, when
     * {@code poller} is not null, reloads it whenever either file changes.
     */
    public FileCertificateSource(Path certFile, Path keyFile, FilePoller poller, ReloadListener events) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.events = events;
        this.current = load(certFile, keyFile);
        if (poller != null) {
            poller.watch(List.of(certFile, keyFile), this::reload);
        }
    }

    /** Reads and checks a pair; the exception message names the file and the fix. */
    public static KeyMaterial load(Path certFile, Path keyFile) {
        List<X509Certificate> chain = Pem.readCertificates(certFile);
        PrivateKey key = Pem.readPrivateKey(keyFile);
        // Same checks as the server's TLS set-up: the key belongs to the leaf, the chain is in leaf-first order.
        TrustMaterial.keyStore(chain, key, CHECK_ONLY);
        X509Certificate leaf = chain.getFirst();
        if (leaf.getNotAfter().toInstant().isBefore(Instant.now())) {
            throw new IllegalArgumentException("certificate file " + certFile + " holds a certificate that expired at "
                    + leaf.getNotAfter().toInstant() + "; renew it (tresor cert renew)");
        }
        return new KeyMaterial(chain, key);
    }

    void reload() {
        KeyMaterial loaded;
        try {
            loaded = load(certFile, keyFile);
        } catch (RuntimeException e) {
            events.reloadFailed("certificate", e.getMessage() + "; still using the certificate with serial "
                    + current.serialHex());
            return;
        }
        if (loaded.leaf().equals(current.leaf()) && loaded.key().equals(current.key())) {
            return;
        }
        current = loaded;
        events.reloaded("certificate", "serial " + loaded.serialHex() + ", valid until "
                + loaded.leaf().getNotAfter().toInstant() + ", from " + certFile);
        for (Consumer<KeyMaterial> listener : listeners) {
            listener.accept(loaded);
        }
    }

    @Override
    public KeyMaterial current() {
        return current;
    }

    @Override
    public void onChange(Consumer<KeyMaterial> listener) {
        listeners.add(listener);
    }

    @Override
    public String describe() {
        return "certificate " + certFile + " with key " + keyFile;
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
