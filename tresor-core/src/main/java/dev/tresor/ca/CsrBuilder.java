package dev.tresor.ca;

import java.io.IOException;
import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Client-side certificate requests (what the CLI and agent send to {@code POST /v1/ca/sign}).
 * The identity in the request is only a hint for humans reading it: the CA issues whatever
 * identity the caller is authorised for and ignores the requested subject and extensions.
 */
public final class CsrBuilder {

    /** Largest PEM request accepted: a P-256 or RSA-4096 CSR is 0.5-2 KiB, so anything bigger is not one. */
    public static final int MAX_PEM_CHARS = 64 * 1024;

    private CsrBuilder() {}

    /**
     * A CSR signed by {@code keyPair} asking for {@code identity}: a URI identity goes into a
     * subjectAltName extension request (with CN = its last path segment), a CN identity into the CN.
     */
    public static PKCS10CertificationRequest create(KeyPair keyPair, String identity) {
        if (keyPair == null || keyPair.getPublic() == null || keyPair.getPrivate() == null) {
            throw new IllegalArgumentException("a key pair is required");
        }
        Identities.validateIdentity(identity);
        SubjectKeys.requireSupported(SubjectKeys.info(keyPair.getPublic()));
        String commonName = Identities.shortName(identity);
        X500Name subject = commonName.length() <= Identities.MAX_CN_IDENTITY_LENGTH
                ? new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build()
                : new X500Name(new RDN[0]);
        JcaPKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(subject, keyPair.getPublic());
        try {
            if (Identities.isUri(identity)) {
                ExtensionsGenerator extensions = new ExtensionsGenerator();
                extensions.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, identity)));
                Extensions requested = extensions.generate();
                builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, requested);
            }
            String algorithm = "RSA".equals(keyPair.getPrivate().getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA";
            return builder.build(new JcaContentSignerBuilder(algorithm).build(keyPair.getPrivate()));
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalArgumentException("cannot build certificate request: " + e.getMessage(), e);
        }
    }

    /** The request as PEM ("CERTIFICATE REQUEST"). */
    public static String toPem(PKCS10CertificationRequest csr) {
        if (csr == null) {
            throw new IllegalArgumentException("no certificate request");
        }
        return Pem.encodeCsr(csr);
    }

    /**
     * Parses one PEM request, e.g. from an API body. Refuses input over {@link #MAX_PEM_CHARS}
     * before looking at it, and reports anything malformed as an IllegalArgumentException.
     * The signature is not checked here; {@link CertificateAuthority#signCsr} does that.
     */
    public static PKCS10CertificationRequest parsePem(String pem) {
        if (pem == null || pem.isBlank()) {
            throw new IllegalArgumentException("certificate request is empty; expected PEM ('-----BEGIN CERTIFICATE REQUEST-----')");
        }
        if (pem.length() > MAX_PEM_CHARS) {
            throw new IllegalArgumentException("certificate request is larger than " + MAX_PEM_CHARS / 1024
                    + " KiB; a real request is a few KiB at most");
        }
        return Pem.parseCsr(pem, "certificate request");
    }
}
