package dev.tresor.server;

import dev.tresor.ca.Pem;
import dev.tresor.ca.TrustMaterial;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a renewed server certificate without a restart: the certificate and key files are
 * looked at every few seconds, and when their content changes (a renewal, cert-manager writing
 * a new pair) new TLS connections get the new pair while open ones keep theirs. A pair that
 * cannot be used (half written, key and certificate not matching, not PEM) leaves the last good
 * one in service, logged as an error and counted ({@code tresor_tls_reload_failures_total}, and
 * {@code tresor_tls_files_unused} is 1 until the files are fixed).
 */
final class TlsReloader extends AbstractLifeCycle {

    private static final Logger LOG = LoggerFactory.getLogger(TlsReloader.class);
    static final Duration INTERVAL = Duration.ofSeconds(5);

    private final SslContextFactory.Server factory;
    private final Path cert;
    private final Path key;
    private final Path clientCa;
    /** Retired CAs still trusted for client certificates (a rollover's overlap): kept across reloads. */
    private final java.util.function.Supplier<java.util.List<X509Certificate>> retiredAnchors;
    private final TresorMetrics metrics;
    private ScheduledExecutorService timer;
    private volatile X509Certificate serving;
    /** Fingerprint of the files now served, and of the files last looked at (served or not). */
    private volatile byte[] served;
    private byte[] lastSeen;
    /** Files that failed once: counted and logged as an error only if they are still the same at the next look. */
    private byte[] failedOnce;

    TlsReloader(SslContextFactory.Server factory, Path cert, Path key, Path clientCa,
                java.util.function.Supplier<java.util.List<X509Certificate>> retiredAnchors, TresorMetrics metrics) {
        this.factory = factory;
        this.retiredAnchors = retiredAnchors;
        this.cert = cert;
        this.key = key;
        this.clientCa = clientCa;
        this.metrics = metrics;
        this.lastSeen = fingerprint();
        this.served = lastSeen;
        this.serving = Pem.readCertificates(cert).getFirst();
        metrics.tlsFilesUnused(() -> Arrays.equals(served, fingerprint()) ? 0 : 1);
        metrics.certificateExpiry("server", this::serving);
    }

    /** Started and stopped with the API server (a Jetty bean of it). */
    @Override
    protected void doStart() {
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("tresor-tls-reload").daemon().factory());
        timer.scheduleWithFixedDelay(this::check, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The certificate new connections get. */
    X509Certificate serving() {
        return serving;
    }

    /**
     * Looks at the files once: true if a new pair is now served. A pair that cannot be used is
     * given a second look (a renewal writes two files), then logged, counted and not retried
     * until the files change once more.
     */
    synchronized boolean check() {
        byte[] now = fingerprint();
        if (now == null || Arrays.equals(now, lastSeen)) {
            return false;
        }
        try {
            SSLContext context = TrustMaterial.serverContext(cert, key, clientCa, retiredAnchors.get());
            X509Certificate leaf = Pem.readCertificates(cert).getFirst();
            factory.reload(f -> f.setSslContext(context));
            serving = leaf;
            served = now;
            lastSeen = now;
            failedOnce = null;
            LOG.info("tls.cert {} changed: new connections now get the certificate with serial {} (valid until {}); "
                    + "open connections keep theirs", cert, leaf.getSerialNumber().toString(16), leaf.getNotAfter().toInstant());
            return true;
        } catch (Exception e) {
            if (!Arrays.equals(now, failedOnce)) {
                // A renewal replaces the two files one after the other; give it one more look.
                failedOnce = now;
                LOG.debug("tls.cert/tls.key changed but cannot be used yet ({}); looking again in {} s", e.getMessage(),
                        INTERVAL.toSeconds());
                return false;
            }
            lastSeen = now;
            metrics.tlsReloadFailure();
            LOG.error("tls.cert {} / tls.key {} changed but cannot be used ({}); still serving the previous certificate "
                    + "(serial {}); fix the files and they are picked up within {} s", cert, key, e.getMessage(),
                    serving.getSerialNumber().toString(16), INTERVAL.toSeconds());
            return false;
        }
    }

    /**
     * Rebuilds the context from the files as they are and the retired CAs as they are now (after an
     * online CA rollover changed both), whether or not the files changed. Throws if they cannot be used.
     */
    synchronized void reloadTrust() {
        byte[] now = fingerprint();
        SSLContext context = TrustMaterial.serverContext(cert, key, clientCa, retiredAnchors.get());
        X509Certificate leaf = Pem.readCertificates(cert).getFirst();
        try {
            factory.reload(f -> f.setSslContext(context));
        } catch (Exception e) {
            throw new IllegalStateException("cannot reload the TLS context: " + e.getMessage(), e);
        }
        serving = leaf;
        served = now;
        lastSeen = now;
        failedOnce = null;
        LOG.info("client trust rebuilt from {} and {} retired CA(s)", clientCa, retiredAnchors.get().size());
    }

    /** SHA-256 over both files' bytes; null while one cannot be read (e.g. mid-rename). */
    private byte[] fingerprint() {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] certBytes = Files.readAllBytes(cert);
            byte[] keyBytes = Files.readAllBytes(key);
            digest.update(certBytes);
            digest.update((byte) 0);
            digest.update(keyBytes);
            Arrays.fill(keyBytes, (byte) 0);
            return digest.digest();
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected void doStop() {
        timer.shutdownNow();
    }
}
