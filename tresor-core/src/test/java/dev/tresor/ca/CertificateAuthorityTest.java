package dev.tresor.ca;

import static dev.tresor.ca.TestCertificates.FIXED_CLOCK;
import static dev.tresor.ca.TestCertificates.NOW;
import static dev.tresor.ca.TestCertificates.validate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.crypto.LocalKeyProvider;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {

    private static final String WORKLOAD = "spiffe://tresor.local/ns/openemr/sa/openemr";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    private final CertificateAuthority ca = CertificateAuthority.create("tresor.local", Duration.ofDays(3650), FIXED_CLOCK);

    @Test
    void createsASelfSignedP256RootNamingItsTrustDomain() throws Exception {
        X509Certificate root = ca.certificate();
        assertThat(ca.trustDomain()).isEqualTo("tresor.local");
        assertThat(root.getSubjectX500Principal().getName()).isEqualTo("CN=Tresor CA tresor.local");
        assertThat(root.getIssuerX500Principal()).isEqualTo(root.getSubjectX500Principal());
        root.verify(root.getPublicKey());
        assertThat(root.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(root.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(root.getBasicConstraints()).isZero();
        assertThat(root.getCriticalExtensionOIDs()).contains(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
        boolean[] keyUsage = root.getKeyUsage();
        assertThat(keyUsage[5]).as("keyCertSign").isTrue();
        assertThat(keyUsage[6]).as("cRLSign").isTrue();
        assertThat(keyUsage[0]).as("digitalSignature").isFalse();
        assertThat(root.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
        assertThat(Identities.uriSans(root)).containsExactly("spiffe://tresor.local");
        assertPositive128BitSerial(root.getSerialNumber());
        assertThat(root.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(5)));
        assertThat(root.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(3650)));
    }

    @Test
    void refusesBadCaParameters() {
        assertThatThrownBy(() -> CertificateAuthority.create("Tresor.Local", Duration.ofDays(1), FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lowercase");
        assertThatThrownBy(() -> CertificateAuthority.create("tresor.local", Duration.ZERO, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validity");
        assertThatThrownBy(() -> CertificateAuthority.create("tresor.local", Duration.ofDays(365L * 31), FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validity");
    }

    @Test
    void issuesUriClientCertificatesThatValidateAndCarryTheIdentity() throws Exception {
        KeyPair workload = KeyPairs.generateP256();
        IssuedCertificate issued = ca.issueClient(workload.getPublic(), WORKLOAD, Duration.ofHours(24));
        X509Certificate leaf = issued.certificate();

        validate(List.of(leaf), ca.certificate(), NOW);
        assertThat(issued.chain()).containsExactly(leaf, ca.certificate());
        assertThat(leaf.getPublicKey()).isEqualTo(workload.getPublic());
        assertThat(sansOfType(leaf, 6)).containsExactly(WORKLOAD);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=openemr");
        assertThat(Identities.identityOf(leaf)).isEqualTo(WORKLOAD);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
        assertLeafBasics(leaf);
        assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(5)));
        assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(24)));
    }

    @Test
    void issuesCnClientCertificatesWithoutSans() throws Exception {
        IssuedCertificate issued = ca.issueClient(KeyPairs.generateP256().getPublic(), "admin", Duration.ofHours(1));
        X509Certificate leaf = issued.certificate();
        validate(List.of(leaf), ca.certificate(), NOW);
        assertThat(leaf.getSubjectAlternativeNames()).isNull();
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=admin");
        assertThat(Identities.identityOf(leaf)).isEqualTo("admin");
        assertLeafBasics(leaf);
    }

    @Test
    void refusesIdentitiesOfAnotherTrustDomainOrMalformed() {
        var key = KeyPairs.generateP256().getPublic();
        assertThatThrownBy(() -> ca.issueClient(key, "spiffe://evil.example/ns/a", Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trust domain 'evil.example'");
        assertThatThrownBy(() -> ca.issueClient(key, "spiffe://tresor.local/../a", Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'..'");
        assertThatThrownBy(() -> ca.issueClient(key, "", Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    }

    @Test
    void issuesServerCertificatesWithDnsAndIpSans() throws Exception {
        IssuedCertificate issued = ca.issueServer(KeyPairs.generateP256().getPublic(),
                List.of("Tresor.Example.org", "localhost", "127.0.0.1", "::1", "[2001:db8::7]", "localhost"),
                Duration.ofDays(30));
        X509Certificate leaf = issued.certificate();
        validate(List.of(leaf), ca.certificate(), NOW);
        assertThat(sansOfType(leaf, 2)).containsExactly("tresor.example.org", "localhost");
        assertThat(sansOfType(leaf, 7)).containsExactly("127.0.0.1", "0:0:0:0:0:0:0:1", "2001:db8:0:0:0:0:0:7");
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=tresor.example.org");
        assertThat(leaf.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
        assertLeafBasics(leaf);

        X509Certificate ipOnly = ca.issueServer(KeyPairs.generateP256().getPublic(), List.of("::1"), Duration.ofDays(1))
                .certificate();
        assertThat(ipOnly.getSubjectX500Principal().getName()).isEqualTo("CN=::1");
    }

    @Test
    void refusesBadServerNames() {
        var key = KeyPairs.generateP256().getPublic();
        for (String bad : List.of("*.example.org", "a..b", "-a.b", "a.b.", "1.2.3.256", "01.2.3.4", "1.2.3",
                "fe80::1%eth0", "host name", "", "exa_mple.org", "a".repeat(64) + ".org")) {
            assertThatThrownBy(() -> ca.issueServer(key, List.of(bad), Duration.ofDays(1)))
                    .as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ca.issueServer(key, List.of(), Duration.ofDays(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one");
    }

    @Test
    void serverNamesTooLongForACnGoIntoACriticalSanOnly() throws Exception {
        String longName = "a".repeat(60) + "." + "b".repeat(60) + ".example.org";
        X509Certificate leaf = ca.issueServer(KeyPairs.generateP256().getPublic(), List.of(longName), Duration.ofDays(1))
                .certificate();
        assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
        assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.subjectAlternativeName.getId());
        validate(List.of(leaf), ca.certificate(), NOW);
    }

    @Test
    void enforcesTtlBounds() {
        var key = KeyPairs.generateP256().getPublic();
        for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofSeconds(-1), Duration.ofDays(398), null}) {
            assertThatThrownBy(() -> ca.issueClient(key, WORKLOAD, bad))
                    .as(String.valueOf(bad)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lifetime");
            assertThatThrownBy(() -> ca.issueServer(key, List.of("localhost"), bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lifetime");
        }
        assertThatCode(() -> ca.issueClient(key, WORKLOAD, CertificateAuthority.MAX_LEAF_TTL)).doesNotThrowAnyException();
    }

    @Test
    void capsLifetimeAtTheCaExpiryAndRefusesOnceExpired(@TempDir Path dir) {
        CertificateAuthority shortLived = CertificateAuthority.create("tresor.local", Duration.ofDays(1), FIXED_CLOCK);
        X509Certificate leaf = shortLived.issueClient(KeyPairs.generateP256().getPublic(), WORKLOAD, Duration.ofDays(10))
                .certificate();
        assertThat(leaf.getNotAfter()).isEqualTo(shortLived.certificate().getNotAfter());

        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        shortLived.save(dir.resolve("ca.pem"), dir.resolve("ca-key.pem"), kek);
        CertificateAuthority later = CertificateAuthority.load(dir.resolve("ca.pem"), dir.resolve("ca-key.pem"), kek,
                Clock.fixed(NOW.plus(Duration.ofDays(2)), ZoneOffset.UTC));
        assertThatThrownBy(() -> later.issueClient(KeyPairs.generateP256().getPublic(), WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("expired");
    }

    @Test
    void serialsAreRandomPositiveAnd128Bits() {
        Set<BigInteger> serials = new HashSet<>();
        var key = KeyPairs.generateP256().getPublic();
        for (int i = 0; i < 50; i++) {
            BigInteger serial = ca.issueClient(key, "alice", Duration.ofHours(1)).certificate().getSerialNumber();
            assertPositive128BitSerial(serial);
            serials.add(serial);
        }
        assertThat(serials).hasSize(50);
    }

    @Test
    void signsCsrWithTheIdentityTheCallerDecidesIgnoringTheRequest() throws Exception {
        KeyPair workload = KeyPairs.generateP256();
        // The requester asks for another identity and for CA powers; neither may leak into the certificate.
        ExtensionsGenerator wished = new ExtensionsGenerator();
        wished.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        wished.addExtension(Extension.subjectAlternativeName, false, new org.bouncycastle.asn1.x509.GeneralNames(
                TestCertificates.uri("spiffe://tresor.local/admin")));
        PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=admin"), workload.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, wished.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(workload.getPrivate()));

        X509Certificate leaf = ca.signCsr(csr, WORKLOAD, Duration.ofHours(24)).certificate();

        validate(List.of(leaf), ca.certificate(), NOW);
        assertThat(leaf.getPublicKey()).isEqualTo(workload.getPublic());
        assertThat(Identities.identityOf(leaf)).isEqualTo(WORKLOAD);
        assertThat(sansOfType(leaf, 6)).containsExactly(WORKLOAD);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=openemr");
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    }

    @Test
    void signsCsrsFromCsrBuilderAndRsa2048() throws Exception {
        PKCS10CertificationRequest ec = CsrBuilder.create(KeyPairs.generateP256(), WORKLOAD);
        assertThat(Identities.identityOf(ca.signCsr(ec, WORKLOAD, Duration.ofHours(1)).certificate())).isEqualTo(WORKLOAD);

        KeyPair rsa = generate("RSA", 2048);
        PKCS10CertificationRequest rsaCsr = CsrBuilder.create(rsa, "legacy-app");
        X509Certificate leaf = ca.signCsr(rsaCsr, "legacy-app", Duration.ofHours(1)).certificate();
        validate(List.of(leaf), ca.certificate(), NOW);
        assertThat(leaf.getPublicKey()).isEqualTo(rsa.getPublic());
    }

    @Test
    void refusesCsrWithTamperedSignature() throws Exception {
        PKCS10CertificationRequest csr = CsrBuilder.create(KeyPairs.generateP256(), WORKLOAD);
        CertificationRequest original = csr.toASN1Structure();
        CertificationRequestInfo info = original.getCertificationRequestInfo();
        // Same key and signature, different subject: the signature no longer covers what is presented.
        CertificationRequestInfo altered = new CertificationRequestInfo(new X500Name("CN=someone-else"),
                info.getSubjectPublicKeyInfo(), info.getAttributes());
        PKCS10CertificationRequest tampered = new PKCS10CertificationRequest(new CertificationRequest(
                altered, original.getSignatureAlgorithm(), original.getSignature()));
        assertThatThrownBy(() -> ca.signCsr(tampered, WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signature is invalid");

        // A CSR whose signature was made by a different key than the one it carries.
        KeyPair other = KeyPairs.generateP256();
        PKCS10CertificationRequest foreign = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"),
                KeyPairs.generateP256().getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(other.getPrivate()));
        assertThatThrownBy(() -> ca.signCsr(foreign, WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signature is invalid");

        byte[] bytes = csr.getEncoded();
        bytes[bytes.length - 2] ^= 0x01;
        PKCS10CertificationRequest flipped = new PKCS10CertificationRequest(bytes);
        assertThatThrownBy(() -> ca.signCsr(flipped, WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signature");
    }

    @Test
    void acceptsP384Csr() throws Exception {
        KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
        p384.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair keys = p384.generateKeyPair();
        PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=a"), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA384withECDSA").build(keys.getPrivate()));
        X509Certificate issued = ca.signCsr(csr, WORKLOAD, Duration.ofHours(1)).certificate();
        assertThat(issued.getPublicKey()).isEqualTo(keys.getPublic());
        issued.verify(ca.certificate().getPublicKey());
    }

    @Test
    void refusesCsrForUnsupportedKeys() throws Exception {
        java.security.Provider bc = new org.bouncycastle.jce.provider.BouncyCastleProvider();
        for (String curve : List.of("secp192r1", "secp256k1", "secp521r1", "secp224r1")) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", bc);
            generator.initialize(new ECGenParameterSpec(curve));
            KeyPair weak = generator.generateKeyPair();
            PKCS10CertificationRequest weakCsr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=a"), weak.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(bc).build(weak.getPrivate()));
            assertThatThrownBy(() -> ca.signCsr(weakCsr, WORKLOAD, Duration.ofHours(1)))
                    .as(curve).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is on curve")
                    .hasMessageContaining("only P-256");
        }
        KeyPairGenerator p521 = KeyPairGenerator.getInstance("EC");
        p521.initialize(new ECGenParameterSpec("secp521r1"));
        KeyPair weakCurve = p521.generateKeyPair();

        KeyPair rsa1024 = generate("RSA", 1024);
        PKCS10CertificationRequest rsaCsr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=a"), rsa1024.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(rsa1024.getPrivate()));
        assertThatThrownBy(() -> ca.signCsr(rsaCsr, WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1024 bits");

        KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        PKCS10CertificationRequest edCsr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=a"), ed.getPublic())
                .build(new JcaContentSignerBuilder("Ed25519").build(ed.getPrivate()));
        assertThatThrownBy(() -> ca.signCsr(edCsr, WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not supported");

        assertThatThrownBy(() -> ca.issueClient(weakCurve.getPublic(), WORKLOAD, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("P-256");
    }

    @Test
    void refusesCsrSignedWithSha1() throws Exception {
        KeyPair rsa = generate("RSA", 2048);
        PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=a"), rsa.getPublic())
                .build(new JcaContentSignerBuilder("SHA1withRSA").build(rsa.getPrivate()));
        assertThatThrownBy(() -> ca.signCsr(csr, "a", Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SHA-256");
    }

    @Test
    void refusesToCertifyItsOwnKey() {
        assertThatThrownBy(() -> ca.issueClient(ca.certificate().getPublicKey(), "alice", Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CA's own key");
    }

    @Test
    void saveAndLoadRoundTrip(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("ca/ca.pem");
        Path key = dir.resolve("ca/ca-key.pem");
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        ca.save(cert, key, kek);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN TRESOR SEALED CA KEY-----");
        try (var files = Files.list(cert.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("ca.pem", "ca-key.pem");
        }

        CertificateAuthority loaded = CertificateAuthority.load(cert, key, kek, FIXED_CLOCK);
        assertThat(loaded.certificate()).isEqualTo(ca.certificate());
        assertThat(loaded.trustDomain()).isEqualTo("tresor.local");
        X509Certificate leaf = loaded.issueClient(KeyPairs.generateP256().getPublic(), WORKLOAD, Duration.ofHours(1))
                .certificate();
        validate(List.of(leaf), ca.certificate(), NOW);

        assertThatThrownBy(() -> ca.save(cert, dir.resolve("other-key.pem"), kek))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("refusing to overwrite");
    }

    @Test
    void loadRefusesAReadableKeyOrAMismatchedKey(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("ca.pem");
        Path key = dir.resolve("ca-key.pem");
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        ca.save(cert, key, kek);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chmod 600");

        Path otherCert = dir.resolve("other.pem");
        Path otherKey = dir.resolve("other-key.pem");
        CertificateAuthority.create("tresor.local", Duration.ofDays(1), FIXED_CLOCK).save(otherCert, otherKey, kek);
        assertThatThrownBy(() -> CertificateAuthority.load(cert, otherKey, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another CA certificate");

        assertThatThrownBy(() -> CertificateAuthority.load(cert, dir.resolve("missing.pem"), kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
    }

    @Test
    void refusesALeafAsCa() {
        KeyPair keyPair = KeyPairs.generateP256();
        X509Certificate leaf = ca.issueClient(keyPair.getPublic(), WORKLOAD, Duration.ofHours(1)).certificate();
        assertThatThrownBy(() -> new CertificateAuthority(leaf, keyPair.getPrivate(), FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a CA");
    }

    private void assertLeafBasics(X509Certificate leaf) throws Exception {
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.keyUsage.getId(), Extension.basicConstraints.getId());
        boolean[] keyUsage = leaf.getKeyUsage();
        assertThat(keyUsage[0]).as("digitalSignature").isTrue();
        assertThat(keyUsage[5]).as("keyCertSign").isFalse();
        assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(leaf.getIssuerX500Principal()).isEqualTo(ca.certificate().getSubjectX500Principal());
        assertPositive128BitSerial(leaf.getSerialNumber());
        assertThat(leaf.getExtensionValue(Extension.subjectKeyIdentifier.getId())).isNotNull();
        byte[] authorityKeyId = AuthorityKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                leaf.getExtensionValue(Extension.authorityKeyIdentifier.getId()))).getKeyIdentifier();
        byte[] caKeyId = SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(
                ca.certificate().getExtensionValue(Extension.subjectKeyIdentifier.getId()))).getKeyIdentifier();
        assertThat(authorityKeyId).isEqualTo(caKeyId);
    }

    private static void assertPositive128BitSerial(BigInteger serial) {
        assertThat(serial.signum()).isPositive();
        assertThat(serial.bitLength()).isLessThanOrEqualTo(128);
    }

    private static List<String> sansOfType(X509Certificate certificate, int type) throws Exception {
        Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
        List<String> values = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                if (((Integer) san.get(0)) == type) {
                    values.add((String) san.get(1));
                }
            }
        }
        return values;
    }

    private static KeyPair generate(String algorithm, int bits) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        generator.initialize(bits);
        return generator.generateKeyPair();
    }
}
