package dev.tresor.agent.identity;

import dev.tresor.agent.feed.Identity;
import dev.tresor.client.Credentials;
import dev.tresor.client.KeyMaterial;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * A client certificate and key from PEM files (renewed by something else, e.g. cert-manager or a
 * {@code tresor cert renew} cron job). The files are re-read when their size or modification time
 * changes; a pair that does not match (caught between the two writes) keeps the last good one.
 */
public final class FileIdentity implements Identity {

    private final Path cert;
    private final Path key;
    private final List<X509Certificate> serverTrust;
    private String stamp;
    private Credentials current;

    public FileIdentity(Path cert, Path key, Path ca) {
        this.cert = cert;
        this.key = key;
        try {
            this.serverTrust = KeyMaterial.parseCertificates(Files.readString(ca));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the server CA " + ca + ": " + e.getMessage(), e);
        }
        refresh(true);
    }

    private synchronized void refresh(boolean first) {
        String now = stamp();
        if (now.equals(stamp)) {
            return;
        }
        try {
            String chain = Files.readString(cert);
            Credentials fresh = new Credentials(KeyMaterial.parsePrivateKey(Files.readString(key)),
                    KeyMaterial.parseCertificates(chain), serverTrust);
            current = fresh;
            stamp = now;
        } catch (IOException | IllegalArgumentException e) {
            if (first) {
                throw new IllegalArgumentException("cannot use the client certificate " + cert + " and key " + key + ": "
                        + e.getMessage(), e);
            }
            // Half-replaced pair: keep the last good credentials and look again next time.
        }
    }

    private String stamp() {
        try {
            return Files.getLastModifiedTime(cert).toMillis() + ":" + Files.size(cert) + ":"
                    + Files.getLastModifiedTime(key).toMillis() + ":" + Files.size(key);
        } catch (IOException e) {
            return stamp == null ? "missing" : stamp;
        }
    }

    @Override
    public synchronized SSLContext context() {
        return current.sslContext(serverTrust);
    }

    @Override
    public synchronized Object generation() {
        refresh(false);
        return current.serial() + "/" + stamp;
    }

    @Override
    public synchronized String serial() {
        return current.serial();
    }

    @Override
    public synchronized String name() {
        return current.identity();
    }
}
