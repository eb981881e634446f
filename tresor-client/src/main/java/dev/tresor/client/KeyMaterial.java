package dev.tresor.client;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Key generation, CSRs and PEM for workload credentials (BouncyCastle for the encodings only). */
public final class KeyMaterial {

    private KeyMaterial() {}

    /** A fresh EC P-256 key pair: generated where it is used, never sent anywhere. */
    public static KeyPair generateP256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot generate EC P-256 keys", e);
        }
    }

    /**
     * A PEM CSR for {@code keys}. The subject is a placeholder: the server decides the identity
     * (from the client it authenticated or the join token), whatever a CSR asks for.
     */
    public static String csrPem(KeyPair keys) {
        try {
            String algorithm = keys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=tresor-workload"),
                    keys.getPublic()).build(new JcaContentSignerBuilder(algorithm).build(keys.getPrivate()));
            return pem(csr);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign the certificate request", e);
        }
    }

    static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** PKCS#8 PEM of a private key. */
    public static String privateKeyPem(PrivateKey key) {
        try {
            return pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null));
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new IllegalArgumentException("cannot encode the private key: " + e.getMessage(), e);
        }
    }

    public static String certificatesPem(List<X509Certificate> certificates) {
        StringBuilder out = new StringBuilder();
        for (X509Certificate c : certificates) {
            out.append(pem(c));
        }
        return out.toString();
    }

    /** Every certificate in a PEM text, in order; refuses text with none. */
    public static List<X509Certificate> parseCertificates(String pem) {
        List<X509Certificate> out = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object next;
            while ((next = parser.readObject()) != null) {
                if (next instanceof X509CertificateHolder holder) {
                    out.add(new JcaX509CertificateConverter().getCertificate(holder));
                }
            }
        } catch (IOException | CertificateException | RuntimeException e) {
            throw new IllegalArgumentException("not a PEM certificate list: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no certificate in the PEM text");
        }
        return out;
    }

    /** The private key in a PEM text (PKCS#8, or a traditional EC/RSA key). */
    public static PrivateKey parsePrivateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a PEM private key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("no unencrypted private key in the PEM text");
    }

    /** Whether a private key belongs to a public key, proven by a signature over a random challenge. */
    public static boolean matches(PrivateKey privateKey, PublicKey publicKey) {
        if (privateKey == null || publicKey == null || !privateKey.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
