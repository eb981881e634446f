package dev.tresor.tunnel;

import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Workload certificates (an X509-SVID: one SPIFFE URI SAN, EKU clientAuth and serverAuth, as
 * SPIRE and the Tresor CA issue them) and CRLs, under a {@link TestPki} CA. TestPki's own client
 * certificates have clientAuth only, which a tunnel client rightly refuses from a server.
 */
final class WorkloadPki {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final TestPki ca;

    WorkloadPki(TestPki ca) {
        this.ca = ca;
    }

    static WorkloadPki create(String name) {
        return new WorkloadPki(TestPki.create(name, "tresor.local"));
    }

    TestPki ca() {
        return ca;
    }

    IssuedCert workload(String identity) {
        Instant now = Instant.now();
        return workload(identity, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
    }

    IssuedCert workload(String identity, Instant notBefore, Instant notAfter) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            String cn = identity.substring(identity.lastIndexOf('/') + 1);
            var builder = new JcaX509v3CertificateBuilder(ca.caCertificate(), new BigInteger(63, RANDOM).add(BigInteger.ONE),
                    Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + cn), keys.getPublic());
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            builder.addExtension(Extension.subjectAlternativeName, true,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity)));
            builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keys.getPublic()));
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    extensions.createAuthorityKeyIdentifier(ca.caCertificate()));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.caKey())));
            return new IssuedCert(certificate, keys.getPrivate(), ca.caCertificate());
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException("cannot issue a workload certificate for " + identity, e);
        }
    }

    /** A CRL of this CA listing {@code revoked}, valid for a day. */
    X509CRL crl(X509Certificate... revoked) {
        try {
            Instant now = Instant.now();
            X500Name issuer = X500Name.getInstance(ca.caCertificate().getSubjectX500Principal().getEncoded());
            X509v2CRLBuilder builder = new X509v2CRLBuilder(issuer, Date.from(now.minusSeconds(60)));
            builder.setNextUpdate(Date.from(now.plus(Duration.ofDays(1))));
            for (X509Certificate certificate : revoked) {
                builder.addCRLEntry(certificate.getSerialNumber(), Date.from(now.minusSeconds(30)), CRLReason.keyCompromise);
            }
            return new JcaX509CRLConverter().getCRL(builder.build(new JcaContentSignerBuilder("SHA256withECDSA")
                    .build(ca.caKey())));
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException("cannot build a CRL", e);
        }
    }

    static Path writeCrl(Path file, X509CRL crl) {
        try {
            String pem = "-----BEGIN X509 CRL-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(crl.getEncoded())
                    + "\n-----END X509 CRL-----\n";
            replace(file, pem);
            return file;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code <name>.crt} (leaf + CA) and {@code <name>.key}, each replaced atomically by a rename as a renewal would. */
    static IssuedCert.PemFiles write(Path dir, String name, IssuedCert cert) {
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        replace(key, TestPki.pem(cert.privateKey()));
        replace(crt, TestPki.pem(cert.certificate()) + TestPki.pem(cert.ca()));
        return new IssuedCert.PemFiles(crt, key);
    }

    static void replace(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".new-", ".tmp");
            Files.writeString(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
