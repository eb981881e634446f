package dev.tresor.crypto;

import com.google.crypto.tink.Aead;

/**
 * Holds the key-encryption key (KEK). Everything secret that Tresor stores (data keys, the row
 * MAC key, the audit chain key) is wrapped by this AEAD; the KEK itself never leaves the provider.
 *
 * <p>Implementations: {@link LocalKeyProvider} (a key file). HSM and cloud KMS providers plug in
 * here with the same contract: {@code kek().encrypt(plaintext, associatedData)} and its inverse.
 */
public interface KeyProvider {

    /** A stable, non-secret name of the KEK in use, stored beside everything it wraps. */
    String keyId();

    /** The wrapping primitive. Decryption fails if the associated data differs. */
    Aead kek();
}
