package dev.tresor.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

// org.bouncycastle.asn1.x509.Extension clashes with java.security.cert.Extension, so it is always
// written fully qualified below instead of imported.

/**
 * An independent test PKI: one self-signed CA that issues server and client certificates.
 *
 * <p>Built straight on BouncyCastle's certificate builder (bcpkix) with keys, signatures and the
 * certificate parser of the default JDK providers. It deliberately shares no code with
 * tresor-core, so a test of the server's certificate handling does not trust the code under test
 * to produce its own fixtures. The BouncyCastle JCA provider is never registered: everything a
 * test sees ({@link X509Certificate}, {@link PrivateKey}) is what the JDK itself would produce.
 *
 * <p>All keys are EC P-256 and everything is signed with SHA256withECDSA. Instances are
 * immutable and safe to share between threads.
 */
public final class TestPki {

    /** Leaf certificates start an hour in the past so small clock differences never matter. */
    private static final Duration LEAF_BACKDATE = Duration.ofHours(1);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(30);
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String name;
    private final X500Name caName;
    private final KeyPair caKeys;
    private final X509Certificate caCertificate;

    private TestPki(String name, X500Name caName, KeyPair caKeys, X509Certificate caCertificate) {
        this.name = name;
        this.caName = caName;
        this.caKeys = caKeys;
        this.caCertificate = caCertificate;
    }

    /**
     * Creates a new self-signed CA with subject {@code CN=name}, basicConstraints CA:true,
     * keyUsage keyCertSign|cRLSign, valid from one hour ago for ten years. Every call makes a new
     * key, so two instances created with the same name still do not trust each other.
     */
    public static TestPki create(String name) {
        return create(name, null);
    }

    /**
     * As {@link #create(String)}, and when {@code trustDomain} is not null the CA also carries the
     * URI SAN {@code spiffe://trustDomain}, which a Tresor server reads as its CA's trust domain.
     */
    public static TestPki create(String name, String trustDomain) {
        Objects.requireNonNull(name, "name");
        KeyPair keys = newKeyPair();
        X500Name subject = commonName(name);
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                subject, newSerial(), toDate(now.minus(LEAF_BACKDATE)), toDate(now.plus(CA_LIFETIME)),
                subject, keys.getPublic());
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
                    new BasicConstraints(true));
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectKeyIdentifier, false,
                    extensions.createSubjectKeyIdentifier(keys.getPublic()));
            if (trustDomain != null) {
                builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                        new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                                org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, "spiffe://" + trustDomain)));
            }
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the CA certificate of test PKI " + name, e);
        }
        return new TestPki(name, subject, keys, sign(builder, keys.getPrivate()));
    }

    /** The name this PKI was created with (the CN of its CA). */
    public String name() {
        return name;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    /** The CA's private key; tests may need to place it into a server's data folder. */
    public PrivateKey caKey() {
        return caKeys.getPrivate();
    }

    /** Writes the CA certificate as PEM to {@code file} (creating parent folders) and returns it. */
    public Path writeCaPem(Path file) {
        writeString(file, pem(caCertificate));
        return file;
    }

    /**
     * Issues a server certificate for the given DNS names and IP addresses (for example
     * {@code "localhost", "127.0.0.1"}). EKU is serverAuth and clientAuth, so the same
     * certificate can also be used for the server's own outgoing mTLS connections. The subject
     * CN is the first name. Valid from an hour ago for 30 days.
     */
    public IssuedCert server(String... dnsOrIpSans) {
        if (dnsOrIpSans.length == 0) {
            throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP address");
        }
        List<GeneralName> names = new ArrayList<>();
        for (String san : dnsOrIpSans) {
            // IPAddress.isValid accepts IPv4 and IPv6 literals; everything else is a DNS name.
            names.add(IPAddress.isValid(san)
                    ? new GeneralName(GeneralName.iPAddress, san)
                    : new GeneralName(GeneralName.dNSName, san));
        }
        Instant now = Instant.now();
        return issue(dnsOrIpSans[0], names, now.minus(LEAF_BACKDATE), now.plus(LEAF_LIFETIME),
                KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
    }

    /**
     * Issues a client certificate valid from an hour ago for 30 days. See
     * {@link #client(String, Instant, Instant)} for how {@code identity} is encoded.
     */
    public IssuedCert client(String identity) {
        Instant now = Instant.now();
        return client(identity, now.minus(LEAF_BACKDATE), now.plus(LEAF_LIFETIME));
    }

    /**
     * Issues a client certificate (EKU clientAuth) with a chosen validity, which makes expired or
     * not-yet-valid certificates possible. X.509 keeps whole seconds, so both instants are
     * truncated to seconds.
     *
     * <p>If {@code identity} contains {@code ':'} it is a URI (for example
     * {@code spiffe://tresor.local/ns/x/sa/y}): it becomes the only subject alternative name and
     * the subject CN is its last path segment ({@code y}), which is what a server would show in a
     * log line. Otherwise {@code identity} is the subject CN and the certificate has no SAN at
     * all, to exercise the server's CN-only path.
     */
    public IssuedCert client(String identity, Instant notBefore, Instant notAfter) {
        Objects.requireNonNull(identity, "identity");
        if (!notBefore.isBefore(notAfter)) {
            throw new IllegalArgumentException("notBefore " + notBefore + " is not before notAfter " + notAfter);
        }
        if (!identity.contains(":")) {
            return issue(identity, List.of(), notBefore, notAfter, KeyPurposeId.id_kp_clientAuth);
        }
        URI uri;
        try {
            uri = new URI(identity);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("client identity looks like a URI but is not one: " + identity, e);
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("/+$", "");
        String lastSegment = path.substring(path.lastIndexOf('/') + 1);
        String cn = lastSegment.isEmpty() ? identity : lastSegment;
        return issue(cn, List.of(new GeneralName(GeneralName.uniformResourceIdentifier, identity)),
                notBefore, notAfter, KeyPurposeId.id_kp_clientAuth);
    }

    private IssuedCert issue(String cn, List<GeneralName> sans, Instant notBefore, Instant notAfter,
            KeyPurposeId... purposes) {
        KeyPair keys = newKeyPair();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                caName, newSerial(), toDate(notBefore), toDate(notAfter), commonName(cn), keys.getPublic());
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
                    new BasicConstraints(false));
            // digitalSignature is all an ECDSA key does in TLS 1.2 (ECDHE) and TLS 1.3.
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(purposes));
            if (!sans.isEmpty()) {
                builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectKeyIdentifier, false,
                    extensions.createSubjectKeyIdentifier(keys.getPublic()));
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.authorityKeyIdentifier, false,
                    extensions.createAuthorityKeyIdentifier(caCertificate));
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a certificate for CN=" + cn, e);
        }
        return new IssuedCert(sign(builder, caKeys.getPrivate()), keys.getPrivate(), caCertificate);
    }

    /** PEM ("-----BEGIN CERTIFICATE-----") of a certificate. */
    public static String pem(X509Certificate certificate) {
        try {
            return pem("CERTIFICATE", certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode certificate " + certificate.getSubjectX500Principal(), e);
        }
    }

    /**
     * PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") of a private key. JDK keys encode as PKCS#8
     * already, so this is just the DER in PEM armour, unencrypted.
     */
    public static String pem(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("expected a PKCS#8 encodable key, got format " + key.getFormat());
        }
        return pem("PRIVATE KEY", key.getEncoded());
    }

    private static String pem(String type, byte[] der) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, der));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    static void writeString(Path file, String content) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey) {
        try {
            // No setProvider(...): signing and parsing use the default JDK providers (SunEC).
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a test certificate", e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot generate EC P-256 keys", e);
        }
    }

    /** Random positive 127-bit serial: unique in practice, and RFC 5280 allows up to 20 octets. */
    private static BigInteger newSerial() {
        return new BigInteger(127, RANDOM).setBit(0);
    }

    private static X500Name commonName(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    }

    private static Date toDate(Instant instant) {
        return Date.from(instant.truncatedTo(ChronoUnit.SECONDS));
    }

    @Override
    public String toString() {
        return "TestPki[" + name + "]";
    }
}
