package dev.tresor.ca;

import static dev.tresor.ca.TestCertificates.FIXED_CLOCK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemTest {

    private final CertificateAuthority ca = CertificateAuthority.create("tresor.local", Duration.ofDays(30), FIXED_CLOCK);
    private final KeyPair keyPair = KeyPairs.generateP256();
    private final IssuedCertificate issued = ca.issueClient(keyPair.getPublic(), "alice", Duration.ofHours(1));

    @TempDir
    Path dir;

    @Test
    void roundTripsACertificateChain() {
        Path file = dir.resolve("chain.pem");
        Pem.writeCertificates(file, issued.chain());
        assertThat(Pem.readCertificates(file)).containsExactlyElementsOf(issued.chain());
        assertThat(Pem.parseCertificates(issued.chainPem(), "chain")).containsExactlyElementsOf(issued.chain());
        assertThatThrownBy(() -> Pem.readCertificate(file))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 2 certificates");
    }

    @Test
    void acceptsExplanatoryTextCrLfAndCombinedFiles() {
        String pem = "subject=CN = alice\r\n" + Pem.encodeCertificate(issued.certificate()).replace("\n", "\r\n")
                + "\n# the key\n" + Pem.encodePrivateKey(keyPair.getPrivate());
        assertThat(Pem.parseCertificates(pem, "combined")).containsExactly(issued.certificate());
        assertThat(SubjectKeys.matches(Pem.parsePrivateKey(pem, "combined"), keyPair.getPublic())).isTrue();
    }

    @Test
    void writesPrivateKeysOwnerOnlyAndAtomically() throws Exception {
        Path file = dir.resolve("keys/key.pem");
        Pem.writePrivateKey(file, keyPair.getPrivate());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        // Replacing a key that someone left world-readable yields a fresh 0600 file, not the old mode.
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Pem.writePrivateKey(file, keyPair.getPrivate());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var files = Files.list(file.getParent())) {
            assertThat(files).containsExactly(file);
        }

        PrivateKey read = Pem.readPrivateKey(file);
        assertThat(read.getEncoded()).isEqualTo(keyPair.getPrivate().getEncoded());

        Path cert = dir.resolve("cert.pem");
        Pem.writeCertificates(cert, List.of(issued.certificate()));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cert))).endsWith("r--");
    }

    @Test
    void readsSec1EcPrivateKeys() throws Exception {
        PrivateKeyInfo pkcs8 = PrivateKeyInfo.getInstance(keyPair.getPrivate().getEncoded());
        ECPrivateKey inner = ECPrivateKey.getInstance(pkcs8.parsePrivateKey());
        ECPrivateKey sec1 = new ECPrivateKey(256, inner.getKey(),
                SubjectPublicKeyInfo.getInstance(keyPair.getPublic().getEncoded()).getPublicKeyData(),
                pkcs8.getPrivateKeyAlgorithm().getParameters());
        String pem = pem("EC PRIVATE KEY", sec1.getEncoded());
        PrivateKey key = Pem.parsePrivateKey(pem, "sec1");
        assertThat(SubjectKeys.matches(key, keyPair.getPublic())).isTrue();

        ECPrivateKey noCurve = new ECPrivateKey(256, inner.getKey());
        assertThatThrownBy(() -> Pem.parsePrivateKey(pem("EC PRIVATE KEY", noCurve.getEncoded()), "sec1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without its curve parameters");
    }

    @Test
    void readsPkcs1RsaPrivateKeys() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair rsa = generator.generateKeyPair();
        byte[] pkcs1 = PrivateKeyInfo.getInstance(rsa.getPrivate().getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded();
        assertThat(SubjectKeys.matches(Pem.parsePrivateKey(pem("RSA PRIVATE KEY", pkcs1), "rsa"), rsa.getPublic())).isTrue();
    }

    @Test
    void rejectsGarbageWithClearMessages() throws Exception {
        String certPem = Pem.encodeCertificate(issued.certificate());
        String body = certPem.substring(certPem.indexOf('\n') + 1, certPem.indexOf("-----END"));

        assertRejected("", "is empty");
        assertRejected("hello world\n", "no '-----BEGIN ...-----' line found");
        assertRejected("-----BEGIN CERTIFICATE-----\n" + body, "has no matching END line");
        assertRejected("-----BEGIN CERTIFICATE-----\n" + body + "-----END PRIVATE KEY-----\n", "does not match");
        assertRejected("-----BEGIN CERTIFICATE-----\n" + body.replace('A', '*') + "-----END CERTIFICATE-----\n", "not valid base64");
        assertRejected("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "is empty");
        assertRejected("-----END CERTIFICATE-----\n", "END line without a BEGIN");
        assertRejected("-----BEGIN certificate-----\nAAAA\n-----END certificate-----\n", "malformed BEGIN line");
        assertRejected(pem("CERTIFICATE", "not a certificate".getBytes(StandardCharsets.US_ASCII)), "is not a valid X.509 certificate");
        byte[] withTrailingByte = java.util.Arrays.copyOf(issued.certificate().getEncoded(), issued.certificate().getEncoded().length + 1);
        assertRejected(pem("CERTIFICATE", withTrailingByte), "certificate");
        assertRejected(Pem.encodePrivateKey(keyPair.getPrivate()), "holds no '-----BEGIN CERTIFICATE-----' block (found: PRIVATE KEY)");
    }

    @Test
    void rejectsBadKeyFilesWithClearMessages() throws Exception {
        Path certOnly = dir.resolve("cert.pem");
        Pem.writeCertificates(certOnly, List.of(issued.certificate()));
        assertThatThrownBy(() -> Pem.readPrivateKey(certOnly))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("file " + certOnly).hasMessageContaining("holds no private key");

        String encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
                + "-----END RSA PRIVATE KEY-----\n";
        assertThatThrownBy(() -> Pem.parsePrivateKey(encrypted, "key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PEM headers");
        assertThatThrownBy(() -> Pem.parsePrivateKey(pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}), "key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("encrypted private key");
        assertThatThrownBy(() -> Pem.parsePrivateKey(pem("PRIVATE KEY", new byte[] {0x30, 0x03, 1, 2, 3}), "key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key holds a malformed private key");
        String two = Pem.encodePrivateKey(keyPair.getPrivate()) + Pem.encodePrivateKey(KeyPairs.generateP256().getPrivate());
        assertThatThrownBy(() -> Pem.parsePrivateKey(two, "key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 private keys");
    }

    @Test
    void rejectsMissingBinaryAndOversizedFiles() throws Exception {
        Path missing = dir.resolve("missing.pem");
        assertThatThrownBy(() -> Pem.readCertificates(missing))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("file " + missing + " does not exist");

        Path der = dir.resolve("cert.der");
        Files.write(der, issued.certificate().getEncoded());
        assertThatThrownBy(() -> Pem.readCertificates(der))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("binary data");

        Path huge = dir.resolve("huge.pem");
        Files.write(huge, new byte[Pem.MAX_FILE_BYTES + 1]);
        assertThatThrownBy(() -> Pem.readCertificates(huge))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than");
    }

    private static void assertRejected(String pem, String expectedMessagePart) {
        assertThatThrownBy(() -> Pem.parseCertificates(pem, "file /tmp/x.pem"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("file /tmp/x.pem")
                .hasMessageContaining(expectedMessagePart);
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }
}
