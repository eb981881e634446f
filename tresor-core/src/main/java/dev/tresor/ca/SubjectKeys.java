package dev.tresor.ca;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.math.ec.ECPoint;

/**
 * The rules for keys Tresor will certify, and key/certificate consistency checks.
 *
 * <p>Only EC P-256 and P-384 (named curve, point on the curve) and RSA 2048..16384 bits are accepted:
 * weaker keys would undermine the CA, exotic ones would fail at some TLS peer much later, and
 * the upper RSA bound stops a CSR from making the server burn CPU on a huge modulus.
 *
 * <p>Public only for {@link #matches}, which the CLI uses to tell a key/certificate mix-up from a
 * refused certificate; the certification rules stay package-private.
 */
public final class SubjectKeys {

    static final int MIN_RSA_BITS = 2048;
    static final int MAX_RSA_BITS = 16384;

    private SubjectKeys() {}

    /** Checks that a subject public key is acceptable, with a message saying why not. */
    static void requireSupported(SubjectPublicKeyInfo key) {
        if (key == null) {
            throw new IllegalArgumentException("no public key");
        }
        ASN1ObjectIdentifier algorithm = key.getAlgorithm().getAlgorithm();
        try {
            if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
                requireAllowedCurve(key);
            } else if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
                requireStrongRsa(key);
            } else {
                throw new IllegalArgumentException("public key algorithm " + algorithm.getId()
                        + " is not supported; use EC P-256, EC P-384 or RSA of at least " + MIN_RSA_BITS + " bits");
            }
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("public key is malformed: " + e.getMessage(), e);
        }
    }

    private static void requireAllowedCurve(SubjectPublicKeyInfo key) {
        ASN1Encodable parameters = key.getAlgorithm().getParameters();
        if (!(parameters instanceof ASN1ObjectIdentifier curve)) {
            // Explicit curve parameters are a classic attack vector (CVE-2020-0601); only named curves are accepted.
            throw new IllegalArgumentException("EC public key must name its curve; explicit curve parameters are refused");
        }
        if (!SECObjectIdentifiers.secp256r1.equals(curve) && !SECObjectIdentifiers.secp384r1.equals(curve)) {
            throw new IllegalArgumentException("EC public key is on curve " + curveName(curve)
                    + "; only P-256 (secp256r1) and P-384 (secp384r1) are supported");
        }
        if (key.getPublicKeyData().getPadBits() != 0) {
            throw new IllegalArgumentException("EC public key bit string is malformed");
        }
        // decodePoint checks that the point lies on the curve; a point off the curve is an invalid-curve attack.
        ECPoint point = ECNamedCurveTable.getByOID(curve).getCurve().decodePoint(key.getPublicKeyData().getOctets());
        if (point.isInfinity()) {
            throw new IllegalArgumentException("EC public key is the point at infinity");
        }
    }

    private static void requireStrongRsa(SubjectPublicKeyInfo key) {
        ASN1Encodable parameters = key.getAlgorithm().getParameters();
        if (parameters != null && !DERNull.INSTANCE.equals(parameters)) {
            throw new IllegalArgumentException("RSA public key has unexpected algorithm parameters");
        }
        RSAPublicKey rsa;
        try {
            rsa = RSAPublicKey.getInstance(key.parsePublicKey());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("RSA public key is malformed: " + e.getMessage(), e);
        }
        BigInteger modulus = rsa.getModulus();
        BigInteger exponent = rsa.getPublicExponent();
        int bits = modulus.bitLength();
        if (bits < MIN_RSA_BITS) {
            throw new IllegalArgumentException("RSA public key has " + bits + " bits; at least " + MIN_RSA_BITS
                    + " are required");
        }
        if (bits > MAX_RSA_BITS) {
            throw new IllegalArgumentException("RSA public key has " + bits + " bits; at most " + MAX_RSA_BITS
                    + " are accepted");
        }
        if (!modulus.testBit(0) || !exponent.testBit(0) || exponent.compareTo(BigInteger.valueOf(3)) < 0
                || exponent.compareTo(modulus) >= 0) {
            throw new IllegalArgumentException("RSA public key is malformed (even modulus or invalid exponent)");
        }
    }

    private static String curveName(ASN1ObjectIdentifier curve) {
        String name = ECNamedCurveTable.getName(curve);
        return name != null ? name + " (" + curve.getId() + ")" : curve.getId();
    }

    /** A JCA public key for a checked SubjectPublicKeyInfo. */
    static PublicKey toPublicKey(SubjectPublicKeyInfo key) {
        String algorithm = X9ObjectIdentifiers.id_ecPublicKey.equals(key.getAlgorithm().getAlgorithm()) ? "EC" : "RSA";
        try {
            return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(key.getEncoded()));
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("public key cannot be decoded: " + e.getMessage(), e);
        }
    }

    /** SubjectPublicKeyInfo of a JCA public key. */
    static SubjectPublicKeyInfo info(PublicKey key) {
        if (key == null || key.getEncoded() == null) {
            throw new IllegalArgumentException("no public key, or a public key that cannot be encoded");
        }
        try {
            return SubjectPublicKeyInfo.getInstance(key.getEncoded());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("public key is malformed: " + e.getMessage(), e);
        }
    }

    /**
     * Whether a private key belongs to a public key, proven by signing a random challenge:
     * comparing encodings would not work across providers, and a signature is what TLS will do.
     */
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
