package dev.tresor.cli;

import dev.tresor.ca.Pem;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;

/** Whether a private key belongs to a certificate: sign a random challenge, verify with the certificate's key. */
final class KeyMatch {

    private KeyMatch() {}

    /** True also when the files cannot be read again: this only refines an error message. */
    static boolean keyBelongsToCertificate(Path keyFile, Path certFile) {
        try {
            return matches(Pem.readPrivateKey(keyFile), Pem.readCertificates(certFile).getFirst().getPublicKey());
        } catch (RuntimeException e) {
            return true;
        }
    }

    static boolean matches(PrivateKey privateKey, PublicKey publicKey) {
        String algorithm = switch (privateKey.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null || !privateKey.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return algorithm == null;
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
