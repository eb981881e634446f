package dev.tresor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Set;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A leaf certificate issued by a {@link TestPki}, its private key, and the CA that issued it.
 *
 * @param certificate the leaf certificate
 * @param privateKey  the leaf's private key (EC P-256)
 * @param ca          the issuing CA's certificate; sent along as the second element of the chain
 */
public record IssuedCert(X509Certificate certificate, PrivateKey privateKey, X509Certificate ca) {

    private static final Set<PosixFilePermission> OWNER_READ_WRITE = PosixFilePermissions.fromString("rw-------");

    public IssuedCert {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(ca, "ca");
    }

    /** Where {@link #writePem(Path, String)} put the two files. */
    public record PemFiles(Path certificate, Path privateKey) {
    }

    /**
     * Writes {@code <baseName>.crt} (the leaf certificate only, PEM) and {@code <baseName>.key}
     * (unencrypted PKCS#8 PEM, "-----BEGIN PRIVATE KEY-----") into {@code dir}, creating it if
     * needed and replacing existing files.
     *
     * <p>The key file is created with mode 0600 from the start rather than chmod-ed after
     * writing, because a server under test may rightly refuse keys that others can read, and a
     * test should exercise the good path by default.
     */
    public PemFiles writePem(Path dir, String baseName) {
        Path certFile = dir.resolve(baseName + ".crt");
        Path keyFile = dir.resolve(baseName + ".key");
        TestPki.writeString(certFile, TestPki.pem(certificate));
        try {
            Files.deleteIfExists(keyFile);
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(OWNER_READ_WRITE));
                // The umask can only have removed bits; set again so the mode is exactly 0600.
                Files.setPosixFilePermissions(keyFile, OWNER_READ_WRITE);
            }
            Files.writeString(keyFile, TestPki.pem(privateKey));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write private key " + keyFile, e);
        }
        return new PemFiles(certFile, keyFile);
    }

    /**
     * Builds a TLS {@link SSLContext} that presents this certificate (with its CA as chain) and
     * trusts exactly the given anchors, usable on either end of a connection. With no argument it
     * trusts the CA that issued this certificate, which is what most tests want.
     *
     * <p>The certificate is presented whenever the key type fits, even if the peer asked for
     * other issuers, or it is expired: see {@link AlwaysPresentKeyManager} for why. Trust anchors
     * live in an in-memory PKCS12 key store checked by the JDK's "PKIX" trust manager, with
     * revocation checking off (test CAs publish no CRLs).
     */
    public SSLContext sslContext(X509Certificate... trusted) {
        X509Certificate[] anchors = trusted.length == 0 ? new X509Certificate[] {ca} : trusted;
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (int i = 0; i < anchors.length; i++) {
                trust.setCertificateEntry("anchor-" + i, Objects.requireNonNull(anchors[i], "trusted certificate"));
            }
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
            trustManagers.init(trust);

            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {new AlwaysPresentKeyManager(privateKey, certificate, ca)},
                    trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build an SSLContext for " + certificate.getSubjectX500Principal(), e);
        }
    }
}
