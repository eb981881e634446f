package dev.tresor.ca;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

/** Key generation for Tresor's CA and workloads: EC P-256 everywhere (small, fast, universally supported in TLS). */
public final class KeyPairs {

    private KeyPairs() {}

    /** A fresh EC key pair on NIST P-256 (secp256r1), from the platform's strong entropy source. */
    public static KeyPair generateP256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot generate EC P-256 keys", e);
        }
    }
}
