package dev.tresor.ca;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import dev.tresor.crypto.KeyProvider;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Tresor's certificate authority: a self-signed EC P-256 root that issues short-lived server
 * and client certificates.
 *
 * <p>The CA decides every issued certificate's content: subject, SANs, key usages and lifetime
 * come from the caller's (already authorised) arguments, never from what a CSR asks for; a CSR
 * only contributes its public key, after its self-signature proves possession of the private key.
 * Instances are immutable and thread-safe.
 */
public final class CertificateAuthority {

    /** Longest lifetime of an issued certificate: 397 days, the CA/Browser Forum ceiling for TLS certificates since 2020. */
    public static final Duration MAX_LEAF_TTL = Duration.ofDays(397);
    /** Default lifetime of workload certificates (renewed at half-life). */
    public static final Duration DEFAULT_LEAF_TTL = Duration.ofHours(24);
    /** Longest lifetime of the CA itself. */
    public static final Duration MAX_CA_VALIDITY = Duration.ofDays(30L * 365);
    /** How far notBefore is back-dated, so a peer whose clock is slightly behind accepts a fresh certificate. */
    public static final Duration CLOCK_SKEW_ALLOWANCE = Duration.ofMinutes(5);
    /** Most DNS names and IP addresses in one server certificate. */
    public static final int MAX_SERVER_NAMES = 100;

    private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
    private static final String CA_COMMON_NAME_PREFIX = "Tresor CA ";
    private static final int SERIAL_BYTES = 16;
    private static final int MAX_COMMON_NAME_LENGTH = 64;
    private static final Pattern IPV4_LITERAL = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ALL_DIGITS = Pattern.compile("[0-9]+");
    private static final Set<ASN1ObjectIdentifier> ACCEPTED_CSR_SIGNATURES = Set.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, X9ObjectIdentifiers.ecdsa_with_SHA384,
            X9ObjectIdentifiers.ecdsa_with_SHA512, PKCSObjectIdentifiers.sha256WithRSAEncryption,
            PKCSObjectIdentifiers.sha384WithRSAEncryption, PKCSObjectIdentifiers.sha512WithRSAEncryption,
            PKCSObjectIdentifiers.id_RSASSA_PSS);

    private final X509Certificate certificate;
    private final PrivateKey privateKey;
    private final String trustDomain;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final X500Name issuerName;
    private final AuthorityKeyIdentifier authorityKeyIdentifier;

    /**
     * Wraps an existing CA certificate and its key, after checking that they form a usable
     * Tresor root: self-signed, a CA with keyCertSign, EC P-256, key matching the certificate,
     * and a {@code spiffe://<trust-domain>} URI SAN naming the trust domain.
     */
    public CertificateAuthority(X509Certificate certificate, PrivateKey privateKey, Clock clock) {
        if (certificate == null || privateKey == null || clock == null) {
            throw new IllegalArgumentException("CA certificate, key and clock are required");
        }
        String name = Identities.describe(certificate);
        if (certificate.getBasicConstraints() < 0) {
            throw new IllegalArgumentException("certificate " + name + " is not a CA certificate (basicConstraints CA:false)");
        }
        boolean[] keyUsage = certificate.getKeyUsage();
        if (keyUsage == null || keyUsage.length <= 5 || !keyUsage[5]) {
            throw new IllegalArgumentException("CA certificate " + name + " does not allow keyCertSign");
        }
        if (!certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
            throw new IllegalArgumentException("CA certificate " + name + " is not self-signed; only a root CA is supported");
        }
        try {
            certificate.verify(certificate.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("CA certificate " + name + " has an invalid self-signature: " + e.getMessage(), e);
        }
        if (!(certificate.getPublicKey() instanceof ECPublicKey)) {
            throw new IllegalArgumentException("CA certificate " + name + " does not have an EC key");
        }
        SubjectKeys.requireSupported(SubjectKeys.info(certificate.getPublicKey()));
        if (!SubjectKeys.matches(privateKey, certificate.getPublicKey())) {
            throw new IllegalArgumentException("CA private key does not belong to CA certificate " + name);
        }
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.trustDomain = trustDomainOf(certificate);
        this.clock = clock;
        this.issuerName = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        this.authorityKeyIdentifier = new AuthorityKeyIdentifier(subjectKeyIdentifierOf(certificate));
    }

    /**
     * Generates a new CA: an EC P-256 key and a self-signed certificate valid from now (minus
     * the clock-skew allowance) for {@code validity}.
     */
    public static CertificateAuthority create(String trustDomain, Duration validity, Clock clock) {
        Identities.validateTrustDomain(trustDomain);
        if (validity == null || validity.isNegative() || validity.isZero() || validity.compareTo(MAX_CA_VALIDITY) > 0) {
            throw new IllegalArgumentException("CA validity must be positive and at most " + MAX_CA_VALIDITY.toDays()
                    + " days, got " + validity);
        }
        if (clock == null) {
            throw new IllegalArgumentException("clock is required");
        }
        KeyPair keyPair = KeyPairs.generateP256();
        SecureRandom random = new SecureRandom();
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, CA_COMMON_NAME_PREFIX + trustDomain).build();
        SubjectPublicKeyInfo publicKey = SubjectKeys.info(keyPair.getPublic());
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(subject, randomSerial(random),
                Date.from(now.minus(CLOCK_SKEW_ALLOWANCE)), Date.from(now.plus(validity)), subject, publicKey);
        try {
            // pathLen 0: this root signs leaves only, so a leaked leaf key can never act as a sub-CA.
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    new BcX509ExtensionUtils().createSubjectKeyIdentifier(publicKey));
            // The trust domain travels inside the certificate, so load() needs no side file.
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, Identities.SPIFFE_SCHEME_PREFIX + trustDomain)));
        } catch (CertIOException e) {
            throw new IllegalStateException("cannot build CA certificate extensions", e);
        }
        X509Certificate certificate = sign(builder, keyPair.getPrivate(), random);
        return new CertificateAuthority(certificate, keyPair.getPrivate(), clock);
    }

    /** A loaded CA, and whether its key file was found in clear and sealed by this load. */
    public record Opened(CertificateAuthority ca, boolean sealedNow) {}

    /**
     * Loads a CA saved by {@link #save}: the key is opened with {@code kek} (see {@link SealedCaKey}).
     * A key file still in clear (written before keys were sealed, or supplied by an operator as PEM)
     * is sealed in place first, atomically, so it is in clear on disk no longer than until the
     * next start. The key file must not be readable by group or others: a CA key that others could
     * read must be treated as compromised, not silently used.
     */
    public static Opened open(Path caCert, Path caKey, KeyProvider kek, Clock clock) {
        requireOwnerOnly(caKey);
        X509Certificate certificate = Pem.readCertificate(caCert);
        boolean sealedNow = false;
        PrivateKey key;
        if (SealedCaKey.isSealed(caKey)) {
            key = SealedCaKey.open(caKey, certificate, kek);
        } else {
            key = Pem.readPrivateKey(caKey);
            // Only a key that belongs to the certificate is sealed; anything else is refused below, untouched.
            if (SubjectKeys.matches(key, certificate.getPublicKey())) {
                SealedCaKey.write(caKey, key, certificate, kek);
                sealedNow = true;
            }
        }
        try {
            return new Opened(new CertificateAuthority(certificate, key, clock), sealedNow);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("CA in " + caCert + " and " + caKey + " is unusable: " + e.getMessage(), e);
        }
    }

    /** {@link #open} without telling whether the key was sealed by this load. */
    public static CertificateAuthority load(Path caCert, Path caKey, KeyProvider kek, Clock clock) {
        return open(caCert, caKey, kek, clock).ca();
    }

    /**
     * Writes the certificate (mode 0644) and the key sealed by {@code kek} (mode 0600). Refuses to
     * overwrite either file: replacing a CA key silently would orphan every certificate it has issued.
     */
    public void save(Path caCert, Path caKey, KeyProvider kek) {
        for (Path file : List.of(caCert, caKey)) {
            if (Files.exists(file)) {
                throw new UncheckedIOException(new FileAlreadyExistsException(file.toString(), null,
                        "refusing to overwrite an existing CA file"));
            }
        }
        // Key first: a certificate on disk without its key would look like a usable CA and is not.
        SealedCaKey.write(caKey, privateKey, certificate, kek);
        Pem.writeCertificates(caCert, List.of(certificate));
    }

    /** The CA certificate: the trust anchor clients and servers need. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The SPIFFE trust domain of this CA, e.g. {@code tresor.local}. */
    public String trustDomain() {
        return trustDomain;
    }

    /** One revoked certificate in a CRL. */
    public record CrlEntry(BigInteger serial, Instant revokedAt) {}

    /**
     * A CRL signed by this CA listing {@code revoked} (RFC 5280 v2: CRL number = the issue time in
     * milliseconds, so it only grows; authority key identifier; next update after {@code validFor}).
     */
    public java.security.cert.X509CRL crl(List<CrlEntry> revoked, Duration validFor) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        org.bouncycastle.cert.X509v2CRLBuilder builder = new org.bouncycastle.cert.X509v2CRLBuilder(issuerName, Date.from(now));
        builder.setNextUpdate(Date.from(now.plus(validFor)));
        for (CrlEntry entry : revoked) {
            builder.addCRLEntry(entry.serial(), Date.from(entry.revokedAt()), org.bouncycastle.asn1.x509.CRLReason.unspecified);
        }
        try {
            builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
            builder.addExtension(Extension.cRLNumber, false,
                    new org.bouncycastle.asn1.x509.CRLNumber(BigInteger.valueOf(clock.millis())));
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).setSecureRandom(random).build(privateKey);
            return new org.bouncycastle.cert.jcajce.JcaX509CRLConverter().getCRL(builder.build(signer));
        } catch (CertIOException | OperatorCreationException | java.security.cert.CRLException e) {
            throw new IllegalStateException("cannot sign the CRL with the CA key", e);
        }
    }

    /**
     * Issues a TLS server certificate for DNS names and IP addresses (detected: IPv4 dotted quads
     * and IPv6 literals). CN = the first name; EKU serverAuth.
     */
    public IssuedCertificate issueServer(PublicKey key, List<String> dnsNamesAndIps, Duration ttl) {
        if (dnsNamesAndIps == null || dnsNamesAndIps.isEmpty()) {
            throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP address");
        }
        if (dnsNamesAndIps.size() > MAX_SERVER_NAMES) {
            throw new IllegalArgumentException("a server certificate may have at most " + MAX_SERVER_NAMES + " names");
        }
        Set<GeneralName> names = new LinkedHashSet<>();
        List<String> normalized = new ArrayList<>();
        for (String name : dnsNamesAndIps) {
            ServerName parsed = ServerName.parse(name);
            if (names.add(parsed.generalName())) {
                normalized.add(parsed.text());
            }
        }
        return issue(SubjectKeys.info(key), normalized.getFirst(), new GeneralNames(names.toArray(GeneralName[]::new)),
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth}, ttl, null);
    }

    /**
     * Issues a client certificate for an identity (see {@link Identities}). A URI identity gets a
     * URI SAN and CN = its last path segment, and must belong to this CA's trust domain; a CN
     * identity gets the CN only. EKU clientAuth only: a client certificate must never pass as a
     * server's (the CN is the identity's last segment and could read "localhost").
     */
    public IssuedCertificate issueClient(PublicKey key, String identity, Duration ttl) {
        return issueClient(SubjectKeys.info(key), identity, ttl, null);
    }

    /**
     * Issues a client certificate (as {@link #issueClient}) for the public key of a CSR. The CSR's
     * self-signature must verify; everything else it asks for (subject, extensions) is ignored,
     * because the caller has already decided which {@code identity} the requester may have.
     */
    public IssuedCertificate signCsr(PKCS10CertificationRequest csr, String identity, Duration ttl) {
        return signCsr(csr, identity, ttl, null);
    }

    /**
     * As {@link #signCsr(PKCS10CertificationRequest, String, Duration)}, with notBefore no earlier
     * than {@code notBeforeFloor} (may be null): a client whose identity was retired accepts only
     * certificates valid from then on, so the usual back-dating must stop there.
     */
    public IssuedCertificate signCsr(PKCS10CertificationRequest csr, String identity, Duration ttl, Instant notBeforeFloor) {
        return signCsr(csr, identity, ttl, notBeforeFloor, Profile.CLIENT);
    }

    /**
     * What a leaf may be used for. {@link #CLIENT}: EKU clientAuth only (a person or an API client).
     * {@link #WORKLOAD}: clientAuth and serverAuth, for a workload that both calls and is called
     * over mTLS (the tunnel); it needs a {@code spiffe://} identity and gets an empty subject with
     * a critical URI SAN, so no hostname check can ever match it by a CN such as "localhost".
     */
    public enum Profile { CLIENT, WORKLOAD }

    /** As {@link #signCsr(PKCS10CertificationRequest, String, Duration, Instant)} with a chosen {@link Profile}. */
    public IssuedCertificate signCsr(PKCS10CertificationRequest csr, String identity, Duration ttl, Instant notBeforeFloor,
                                     Profile profile) {
        if (profile == null) {
            throw new IllegalArgumentException("no certificate profile");
        }
        if (profile == Profile.WORKLOAD && !Identities.isUri(identity)) {
            throw new IllegalArgumentException("the workload profile needs a spiffe:// identity, not the CN identity '"
                    + Identities.printable(identity) + "'");
        }
        if (csr == null) {
            throw new IllegalArgumentException("no certificate request");
        }
        SubjectPublicKeyInfo key;
        ASN1ObjectIdentifier signatureAlgorithm;
        try {
            key = csr.getSubjectPublicKeyInfo();
            signatureAlgorithm = csr.getSignatureAlgorithm().getAlgorithm();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("certificate request is malformed: " + e.getMessage(), e);
        }
        // Key checks first: they are cheap and stop a huge RSA key before any signature math.
        SubjectKeys.requireSupported(key);
        if (!ACCEPTED_CSR_SIGNATURES.contains(signatureAlgorithm)) {
            throw new IllegalArgumentException("certificate request is signed with " + signatureAlgorithm.getId()
                    + "; use ECDSA or RSA with SHA-256, SHA-384 or SHA-512");
        }
        boolean valid;
        try {
            valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(SubjectKeys.toPublicKey(key)));
        } catch (PKCSException | OperatorCreationException | RuntimeException e) {
            throw new IllegalArgumentException("certificate request signature cannot be checked: " + e.getMessage(), e);
        }
        if (!valid) {
            throw new IllegalArgumentException("certificate request signature is invalid: the request was altered"
                    + " or was not signed by the private key of its public key");
        }
        return issueClient(key, identity, ttl, notBeforeFloor, profile);
    }

    private IssuedCertificate issueClient(SubjectPublicKeyInfo key, String identity, Duration ttl, Instant notBeforeFloor) {
        return issueClient(key, identity, ttl, notBeforeFloor, Profile.CLIENT);
    }

    private IssuedCertificate issueClient(SubjectPublicKeyInfo key, String identity, Duration ttl, Instant notBeforeFloor,
                                          Profile profile) {
        Identities.validateIdentity(identity);
        GeneralNames sans = null;
        if (Identities.isUri(identity)) {
            String identityDomain = Identities.trustDomainOf(identity);
            if (!identityDomain.equals(trustDomain)) {
                throw new IllegalArgumentException("identity '" + identity + "' belongs to trust domain '" + identityDomain
                        + "', but this CA issues for '" + trustDomain + "'");
            }
            sans = new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity));
        }
        if (profile == Profile.WORKLOAD) {
            // No CN: a hostname check falls back to the CN when there is no DNS SAN.
            return issue(key, "", sans, new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth},
                    ttl, notBeforeFloor);
        }
        return issue(key, Identities.shortName(identity), sans,
                new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}, ttl, notBeforeFloor);
    }

    /**
     * Builds and signs a leaf. A common name longer than X.520 allows is left out (the subject is
     * then empty and, as RFC 5280 requires, the SAN extension is critical).
     */
    private IssuedCertificate issue(SubjectPublicKeyInfo key, String commonName, GeneralNames sans,
                                    KeyPurposeId[] purposes, Duration ttl, Instant notBeforeFloor) {
        SubjectKeys.requireSupported(key);
        if (key.equals(SubjectKeys.info(certificate.getPublicKey()))) {
            throw new IllegalArgumentException("refusing to issue a leaf certificate for the CA's own key");
        }
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("certificate lifetime must be positive, got " + ttl);
        }
        if (ttl.compareTo(MAX_LEAF_TTL) > 0) {
            throw new IllegalArgumentException("certificate lifetime " + ttl + " exceeds the maximum of "
                    + MAX_LEAF_TTL.toDays() + " days");
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant caNotBefore = certificate.getNotBefore().toInstant();
        Instant caNotAfter = certificate.getNotAfter().toInstant();
        if (now.isBefore(caNotBefore)) {
            throw new IllegalStateException("CA certificate is not valid before " + caNotBefore + " (now " + now
                    + "); check the clock");
        }
        Instant notAfter = min(now.plus(ttl), caNotAfter);
        if (!notAfter.isAfter(now)) {
            throw new IllegalStateException("CA certificate expired at " + caNotAfter + "; create a new CA");
        }
        Instant notBefore = max(now.minus(CLOCK_SKEW_ALLOWANCE), caNotBefore);
        if (notBeforeFloor != null) {
            Instant floor = notBeforeFloor.truncatedTo(ChronoUnit.SECONDS);
            if (floor.isAfter(now)) {
                throw new IllegalStateException("cannot issue a certificate valid from " + floor + " yet (now " + now
                        + "); check the clock");
            }
            notBefore = max(notBefore, floor);
        }

        boolean hasCommonName = !commonName.isEmpty() && commonName.length() <= MAX_COMMON_NAME_LENGTH;
        X500Name subject = hasCommonName
                ? new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build()
                : new X500Name(new RDN[0]);
        if (!hasCommonName && sans == null) {
            throw new IllegalArgumentException("name '" + Identities.printable(commonName) + "' is too long for a subject CN");
        }
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuerName, randomSerial(random),
                Date.from(notBefore), Date.from(notAfter), subject, key);
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
            builder.addExtension(Extension.subjectKeyIdentifier, false, new BcX509ExtensionUtils().createSubjectKeyIdentifier(key));
            builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
            if (sans != null) {
                builder.addExtension(Extension.subjectAlternativeName, !hasCommonName, sans);
            }
        } catch (CertIOException e) {
            throw new IllegalStateException("cannot build certificate extensions", e);
        }
        X509Certificate leaf = sign(builder, privateKey, random);
        return new IssuedCertificate(leaf, List.of(leaf, certificate));
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey, SecureRandom random) {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).setSecureRandom(random).build(signingKey);
            X509CertificateHolder holder = builder.build(signer);
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign certificate with the CA key", e);
        }
    }

    /** 128 random bits, positive and non-zero (RFC 5280 §4.1.2.2): unpredictable serials defeat chosen-prefix attacks. */
    private static BigInteger randomSerial(SecureRandom random) {
        byte[] bytes = new byte[SERIAL_BYTES];
        BigInteger serial;
        do {
            random.nextBytes(bytes);
            serial = new BigInteger(1, bytes);
        } while (serial.signum() == 0);
        return serial;
    }

    private static String trustDomainOf(X509Certificate caCertificate) {
        List<String> uris = Identities.uriSans(caCertificate);
        for (String uri : uris) {
            if (uri.startsWith(Identities.SPIFFE_SCHEME_PREFIX)) {
                String domain = uri.substring(Identities.SPIFFE_SCHEME_PREFIX.length());
                Identities.trustDomainProblem(domain).ifPresent(problem -> {
                    throw new IllegalArgumentException("CA certificate names an invalid trust domain: " + problem);
                });
                return domain;
            }
        }
        throw new IllegalArgumentException("CA certificate " + Identities.describe(caCertificate)
                + " has no spiffe://<trust-domain> URI SAN, so its trust domain is unknown");
    }

    private static byte[] subjectKeyIdentifierOf(X509Certificate caCertificate) {
        byte[] extension = caCertificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        try {
            if (extension != null) {
                return SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(extension)).getKeyIdentifier();
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("CA certificate has a malformed subjectKeyIdentifier", e);
        }
        // Certificates made elsewhere may lack one; derive it the standard way (RFC 5280 method 1).
        return new BcX509ExtensionUtils().createSubjectKeyIdentifier(SubjectKeys.info(caCertificate.getPublicKey()))
                .getKeyIdentifier();
    }

    private static void requireOwnerOnly(Path keyFile) {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(keyFile);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("CA key file " + keyFile + " does not exist", e);
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("cannot check the permissions of CA key file " + keyFile
                    + ": the file system does not support POSIX permissions", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read CA key file " + keyFile + ": " + e.getMessage(), e);
        }
        Set<PosixFilePermission> groupOrOthers = Set.of(
                PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
        if (permissions.stream().anyMatch(groupOrOthers::contains)) {
            throw new IllegalArgumentException("CA key file " + keyFile + " has mode " + PosixFilePermissions.toString(permissions)
                    + "; it must be readable by its owner only (run: chmod 600 " + keyFile + ")");
        }
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /** One entry of a server certificate: a DNS name or an IP address, with its normalised text. */
    private record ServerName(String text, GeneralName generalName) {

        static ServerName parse(String name) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("server name is empty");
            }
            if (IPV4_LITERAL.matcher(name).matches() || name.indexOf(':') >= 0) {
                return ip(name);
            }
            String dns = name.toLowerCase(Locale.ROOT);
            if (dns.length() > 253) {
                throw new IllegalArgumentException("DNS name '" + Identities.printable(name) + "' is longer than 253 characters");
            }
            String[] labels = dns.split("\\.", -1);
            for (String label : labels) {
                if (!DNS_LABEL.matcher(label).matches()) {
                    throw new IllegalArgumentException("'" + Identities.printable(name) + "' is neither an IP address nor a"
                            + " DNS name (labels of 1-63 characters [a-z0-9-], no wildcards, no trailing dot)");
                }
            }
            if (ALL_DIGITS.matcher(labels[labels.length - 1]).matches()) {
                throw new IllegalArgumentException("'" + Identities.printable(name) + "' looks like a malformed IPv4 address");
            }
            return new ServerName(dns, new GeneralName(GeneralName.dNSName, dns));
        }

        private static ServerName ip(String literal) {
            String unbracketed = literal.startsWith("[") && literal.endsWith("]")
                    ? literal.substring(1, literal.length() - 1) : literal;
            if (unbracketed.indexOf('%') >= 0) {
                throw new IllegalArgumentException("IP address '" + Identities.printable(literal)
                        + "' has a zone id; certificates cannot carry one");
            }
            InetAddress address;
            try {
                // ofLiteral never consults DNS; a name that is not a literal is an error, not a lookup.
                address = InetAddress.ofLiteral(unbracketed);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + Identities.printable(literal) + "' is not a valid IP address", e);
            }
            // Keep the caller's (validated) spelling for the CN: getHostAddress() would expand "::1" to eight groups.
            return new ServerName(unbracketed.toLowerCase(Locale.ROOT),
                    new GeneralName(GeneralName.iPAddress, new DEROctetString(address.getAddress())));
        }
    }
}
