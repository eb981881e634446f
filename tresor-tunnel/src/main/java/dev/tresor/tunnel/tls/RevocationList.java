package dev.tresor.tunnel.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRL;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Certificate revocation lists (PEM or DER, one or several in a file, e.g. {@code GET /v1/ca/crl}),
 * reloaded when the file changes. Each CRL must be signed by a CA of the trust bundle: a CRL
 * nobody can vouch for is refused at load, and the previous one stays in use. A CRL past its
 * {@code nextUpdate} is still applied (revocations never expire) and reported.
 */
public final class RevocationList {

    private final Path file;
    private final TrustBundle bundle;
    private final ReloadListener events;
    private final AtomicReference<List<X509CRL>> current = new AtomicReference<>();
    private final List<Runnable> reloadListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public RevocationList(Path file, TrustBundle bundle, FilePoller poller, ReloadListener events) {
        this.file = file;
        this.bundle = bundle;
        this.events = events;
        current.set(load(file, bundle.anchors()));
        if (poller != null) {
            poller.watch(List.of(file), this::reload);
        }
    }

    static List<X509CRL> load(Path file, List<X509Certificate> anchors) {
        Collection<? extends CRL> crls;
        try (InputStream in = Files.newInputStream(file)) {
            crls = CertificateFactory.getInstance("X.509").generateCRLs(in);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("CRL file " + file + " does not exist", e);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("CRL file " + file + " is not a valid X.509 CRL (PEM or DER): "
                    + e.getMessage(), e);
        }
        if (crls.isEmpty()) {
            throw new IllegalArgumentException("CRL file " + file + " holds no CRL ('-----BEGIN X509 CRL-----')");
        }
        List<X509CRL> verified = new ArrayList<>();
        for (CRL crl : crls) {
            X509CRL x509 = (X509CRL) crl;
            boolean signed = anchors.stream()
                    .anyMatch(a -> a.getSubjectX500Principal().equals(x509.getIssuerX500Principal()) && verifies(x509, a));
            if (!signed) {
                throw new IllegalArgumentException("CRL file " + file + ": the CRL of '"
                        + x509.getIssuerX500Principal().getName() + "' is not signed by any CA of the trust bundle");
            }
            verified.add(x509);
        }
        return List.copyOf(verified);
    }

    private static boolean verifies(X509CRL crl, X509Certificate ca) {
        try {
            crl.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    void reload() {
        try {
            List<X509CRL> loaded = load(file, bundle.anchors());
            current.set(loaded);
            events.reloaded("crl", describe(loaded));
            reloadListeners.forEach(Runnable::run);
            stale(loaded).ifPresent(warning -> events.reloadFailed("crl", warning));
        } catch (RuntimeException e) {
            events.reloadFailed("crl", e.getMessage() + "; still using the previous CRL");
        }
    }

    /** Runs {@code listener} after each CRL that loaded (on the poller's thread): open connections are re-checked. */
    public void onReload(Runnable listener) {
        reloadListeners.add(listener);
    }

    /** Whether {@code certificate} is listed by a CRL of its issuer. */
    public boolean isRevoked(X509Certificate certificate) {
        for (X509CRL crl : current.get()) {
            if (crl.getIssuerX500Principal().equals(certificate.getIssuerX500Principal()) && crl.isRevoked(certificate)) {
                return true;
            }
        }
        return false;
    }

    /** A warning if a CRL is past its nextUpdate: whoever publishes it has stopped. */
    public java.util.Optional<String> staleWarning() {
        return stale(current.get());
    }

    private java.util.Optional<String> stale(List<X509CRL> crls) {
        Instant now = Instant.now();
        return crls.stream().filter(c -> c.getNextUpdate() != null && c.getNextUpdate().toInstant().isBefore(now))
                .findFirst()
                .map(c -> "CRL file " + file + ": the CRL of '" + c.getIssuerX500Principal().getName()
                        + "' was due for renewal at " + c.getNextUpdate().toInstant()
                        + " and is still applied; check what publishes it");
    }

    private String describe(List<X509CRL> crls) {
        int entries = crls.stream().mapToInt(c -> c.getRevokedCertificates() == null ? 0 : c.getRevokedCertificates().size())
                .sum();
        return crls.size() + " CRL(s), " + entries + " revoked certificate(s), from " + file;
    }
}
