package dev.tresor.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks the test PKI against the JDK's own PKIX validator, never against tresor code. */
class TestPkiTest {

    private static final String SPIFFE_ID = "spiffe://tresor.local/ns/payments/sa/billing";
    private static final String EKU_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    private final TestPki pki = TestPki.create("Tresor Test CA");

    @Test
    void caIsASelfSignedP256CertificateAuthority() throws Exception {
        X509Certificate ca = pki.caCertificate();

        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=Tresor Test CA");
        assertThat(ca.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
        assertThat(ca.getBasicConstraints()).as("CA:true").isGreaterThanOrEqualTo(0);
        boolean[] keyUsage = ca.getKeyUsage();
        assertThat(keyUsage[5]).as("keyCertSign").isTrue();
        assertThat(keyUsage[6]).as("cRLSign").isTrue();
        assertThat(keyUsage[0]).as("digitalSignature").isFalse();
        assertThat(ca.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(ca.getPublicKey().toString()).contains("secp256r1");
        assertThat(Duration.between(Instant.now(), ca.getNotAfter().toInstant()))
                .isGreaterThan(Duration.ofDays(3640));
        ca.verify(ca.getPublicKey());
        ca.checkValidity();
    }

    @Test
    void serverAndClientCertificatesValidateWithTheJdkPkixValidator() throws Exception {
        IssuedCert server = pki.server("localhost", "127.0.0.1");
        IssuedCert client = pki.client(SPIFFE_ID);
        IssuedCert plainClient = pki.client("tresor-admin");

        validate(server.certificate(), pki.caCertificate(), new Date());
        validate(client.certificate(), pki.caCertificate(), new Date());
        validate(plainClient.certificate(), pki.caCertificate(), new Date());
        assertThat(server.ca()).isEqualTo(pki.caCertificate());
        assertThat(server.certificate().getBasicConstraints()).as("not a CA").isEqualTo(-1);
    }

    @Test
    void serverCertificateCarriesDnsAndIpSansAndServerAuth() throws Exception {
        X509Certificate server = pki.server("localhost", "127.0.0.1", "::1").certificate();

        assertThat(server.getSubjectAlternativeNames()).containsExactlyInAnyOrder(
                List.of(2, "localhost"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1"));
        assertThat(server.getExtendedKeyUsage()).contains(EKU_SERVER_AUTH);
        assertThat(server.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
        assertThat(Duration.between(server.getNotBefore().toInstant(), server.getNotAfter().toInstant()))
                .isBetween(Duration.ofDays(30), Duration.ofDays(30).plusHours(2));
    }

    @Test
    void spiffeIdentityBecomesAUriSanOfType6AndTheLastPathSegmentTheCn() throws Exception {
        X509Certificate client = pki.client(SPIFFE_ID).certificate();

        assertThat(client.getSubjectAlternativeNames()).containsExactly(List.of(6, SPIFFE_ID));
        assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=billing");
        assertThat(client.getExtendedKeyUsage()).containsExactly(EKU_CLIENT_AUTH);
    }

    @Test
    void plainIdentityBecomesTheCnWithoutAnySan() throws Exception {
        X509Certificate client = pki.client("tresor-admin").certificate();

        assertThat(client.getSubjectAlternativeNames()).isNull();
        assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=tresor-admin");
        assertThat(client.getExtendedKeyUsage()).containsExactly(EKU_CLIENT_AUTH);
    }

    @Test
    void expiredCertificateFailsValidation() {
        Instant now = Instant.now();
        X509Certificate expired = pki.client(SPIFFE_ID, now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)))
                .certificate();

        assertThatThrownBy(() -> validate(expired, pki.caCertificate(), new Date()))
                .isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.EXPIRED));
    }

    @Test
    void notYetValidCertificateFailsValidation() {
        Instant now = Instant.now();
        X509Certificate future = pki.client("later", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)))
                .certificate();

        assertThatThrownBy(() -> validate(future, pki.caCertificate(), new Date()))
                .isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.NOT_YET_VALID));
    }

    @Test
    void certificateFromAnotherPkiFailsValidationEvenWithTheSameCaName() {
        TestPki impostor = TestPki.create("Tresor Test CA");
        X509Certificate foreign = impostor.client(SPIFFE_ID).certificate();

        assertThatThrownBy(() -> validate(foreign, pki.caCertificate(), new Date()))
                .isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void serialNumbersAreUnique() {
        assertThat(pki.client("a").certificate().getSerialNumber())
                .isNotEqualTo(pki.client("a").certificate().getSerialNumber());
    }

    @Test
    void writePemProducesParseableFilesAndAnOwnerOnlyKey(@TempDir Path dir) throws Exception {
        IssuedCert client = pki.client(SPIFFE_ID);

        IssuedCert.PemFiles files = client.writePem(dir.resolve("certs"), "billing");

        assertThat(files.certificate()).isEqualTo(dir.resolve("certs/billing.crt"));
        assertThat(files.privateKey()).isEqualTo(dir.resolve("certs/billing.key"));
        assertThat(Files.getPosixFilePermissions(files.privateKey()))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String keyPem = Files.readString(files.privateKey());
        assertThat(keyPem).startsWith("-----BEGIN PRIVATE KEY-----\n").contains("-----END PRIVATE KEY-----");

        X509Certificate parsed = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(files.certificate()));
        assertThat(parsed).isEqualTo(client.certificate());
        PrivateKey key = parsePkcs8(keyPem);
        assertThat(key.getEncoded()).isEqualTo(client.privateKey().getEncoded());
        assertKeyMatchesCertificate(key, parsed);

        // Writing again replaces the files and keeps the key private.
        pki.client("other").writePem(dir.resolve("certs"), "billing");
        assertThat(Files.getPosixFilePermissions(files.privateKey()))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void caPemAndCaKeyCanBeExported(@TempDir Path dir) throws Exception {
        Path file = pki.writeCaPem(dir.resolve("ca/ca.crt"));

        X509Certificate parsed = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(file)));
        assertThat(parsed).isEqualTo(pki.caCertificate());
        assertThat(Files.readString(file)).isEqualTo(TestPki.pem(pki.caCertificate()))
                .startsWith("-----BEGIN CERTIFICATE-----\n");
        assertKeyMatchesCertificate(parsePkcs8(TestPki.pem(pki.caKey())), pki.caCertificate());
    }

    /** Validates a one-certificate path with the JDK's PKIX validator, as a TLS stack would. */
    private static void validate(X509Certificate leaf, X509Certificate anchor, Date at) throws Exception {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        parameters.setRevocationEnabled(false); // test CAs publish no CRL
        parameters.setDate(at);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
    }

    private static PrivateKey parsePkcs8(String pem) throws Exception {
        String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    private static void assertKeyMatchesCertificate(PrivateKey key, X509Certificate certificate) throws Exception {
        byte[] message = "proof of possession".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(message);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(message);
        assertThat(verifier.verify(signature)).isTrue();
    }
}
