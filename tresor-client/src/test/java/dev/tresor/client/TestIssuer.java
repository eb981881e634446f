package dev.tresor.client;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A tiny CA for the client's unit tests: issues URI-SAN leaves for any public key and validity. */
final class TestIssuer {

    private final KeyPair caKeys = KeyMaterial.generateP256();
    private final X509Certificate ca;
    private final AtomicLong serials = new AtomicLong(1000);

    TestIssuer() {
        ca = build(new X500Name("CN=Test CA"), caKeys.getPublic(), Instant.now().minusSeconds(3600),
                Instant.now().plusSeconds(86_400), null, true);
    }

    X509Certificate ca() {
        return ca;
    }

    Credentials credentials(String identity, Instant notBefore, Instant notAfter) {
        KeyPair keys = KeyMaterial.generateP256();
        return credentials(identity, keys, notBefore, notAfter);
    }

    Credentials credentials(String identity, KeyPair keys, Instant notBefore, Instant notAfter) {
        X509Certificate leaf = build(new X500Name("CN=leaf"), keys.getPublic(), notBefore, notAfter, identity, false);
        return new Credentials(keys.getPrivate(), List.of(leaf, ca), List.of(ca));
    }

    private X509Certificate build(X500Name subject, PublicKey key, Instant notBefore, Instant notAfter, String uri,
                                  boolean isCa) {
        try {
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name("CN=Test CA"),
                    BigInteger.valueOf(serials.incrementAndGet()), Date.from(notBefore), Date.from(notAfter), subject, key);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            if (uri != null) {
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
            }
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
