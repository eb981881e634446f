package dev.tresor.crypto;

import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.spec.SecretKeySpec;

/**
 * Envelope encryption of secret values. Each value gets its own fresh AES-256-GCM data key; the
 * data key is stored only wrapped by the KEK. Two sets of associated data are bound in:
 * <ul>
 *   <li>{@code keyContext} binds the wrapped data key to its secret, version and the set of groups
 *       allowed to read it: change the group list in the database and the key no longer unwraps;</li>
 *   <li>{@code valueContext} binds the ciphertext to its secret and version, so ciphertexts cannot be
 *       swapped between rows.</li>
 * </ul>
 */
public final class Envelope {

    private static final int DATA_KEY_BYTES = 32;

    private final KeyProvider keyProvider;
    private final SecureRandom random = new SecureRandom();
    /** Tink's AesGcmJce format, decrypted with pooled JDK ciphers (see {@link AesGcmDecryption}). */
    private final AesGcmDecryption decryption = new AesGcmDecryption();

    public Envelope(KeyProvider keyProvider) {
        TinkRuntime.ensureRegistered();
        this.keyProvider = java.util.Objects.requireNonNull(keyProvider, "keyProvider");
    }

    /**
     * An envelope without a fixed wrapping key: each call names the key it wraps under (the
     * keyring current at that moment, which may change while the process runs).
     */
    public Envelope() {
        TinkRuntime.ensureRegistered();
        this.keyProvider = null;
    }

    public record Sealed(byte[] wrappedKey, byte[] ciphertext, String kekId) {}

    /*
     * The data key is 32 random bytes, stored as KEK-AEAD(key, keyContext); the value is Tink's
     * AES-256-GCM (random 96-bit nonce, 128-bit tag) under it. Earlier the data key was a whole Tink
     * keyset: parsing that protobuf on every read was ~10 % of the read path. The raw key lives
     * only for the call and is zeroed.
     */

    public Sealed seal(byte[] plaintext, byte[] keyContext, byte[] valueContext) {
        return seal(fixed(), plaintext, keyContext, valueContext);
    }

    /** As {@link #seal(byte[], byte[], byte[])}, the data key wrapped under {@code keyProvider}. */
    public Sealed seal(KeyProvider keyProvider, byte[] plaintext, byte[] keyContext, byte[] valueContext) {
        byte[] key = new byte[DATA_KEY_BYTES];
        try {
            random.nextBytes(key);
            byte[] ciphertext = new AesGcmJce(key).encrypt(plaintext, valueContext);
            byte[] wrapped = keyProvider.kek().encrypt(key, keyContext);
            return new Sealed(wrapped, ciphertext, keyProvider.keyId());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing a value failed", e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Opens a value; throws {@link GeneralSecurityException} if anything bound into it was changed. */
    public byte[] open(byte[] wrappedKey, byte[] ciphertext, byte[] keyContext, byte[] valueContext)
            throws GeneralSecurityException {
        return open(fixed(), wrappedKey, ciphertext, keyContext, valueContext);
    }

    /** As {@link #open(byte[], byte[], byte[], byte[])}, the data key unwrapped by {@code keyProvider}. */
    public byte[] open(KeyProvider keyProvider, byte[] wrappedKey, byte[] ciphertext, byte[] keyContext,
                       byte[] valueContext) throws GeneralSecurityException {
        byte[] key = unwrap(keyProvider, wrappedKey, keyContext);
        try {
            return decryption.decrypt(new SecretKeySpec(key, "AES"), ciphertext, 0, valueContext);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Re-wraps a data key under a new key context (e.g. after a grant changed) without touching the value. */
    public byte[] rewrap(byte[] wrappedKey, byte[] oldKeyContext, byte[] newKeyContext) throws GeneralSecurityException {
        return rewrap(fixed(), wrappedKey, oldKeyContext, newKeyContext);
    }

    /** As {@link #rewrap(byte[], byte[], byte[])}, under {@code keyProvider} (which opens and wraps). */
    public byte[] rewrap(KeyProvider keyProvider, byte[] wrappedKey, byte[] oldKeyContext, byte[] newKeyContext)
            throws GeneralSecurityException {
        byte[] key = unwrap(keyProvider, wrappedKey, oldKeyContext);
        try {
            return keyProvider.kek().encrypt(key, newKeyContext);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /**
     * Moves a data key from one wrapping key to another under the same key context (e.g. from the
     * KEK to the keyring, or from a retired keyring key to the primary); the value is untouched.
     */
    public static byte[] transfer(KeyProvider from, KeyProvider to, byte[] wrappedKey, byte[] keyContext)
            throws GeneralSecurityException {
        byte[] key = unwrap(from, wrappedKey, keyContext);
        try {
            return to.kek().encrypt(key, keyContext);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private KeyProvider fixed() {
        if (keyProvider == null) {
            throw new IllegalStateException("this envelope has no fixed key; pass the key to wrap under");
        }
        return keyProvider;
    }

    private static byte[] unwrap(KeyProvider keyProvider, byte[] wrappedKey, byte[] keyContext)
            throws GeneralSecurityException {
        byte[] key = keyProvider.kek().decrypt(wrappedKey, keyContext);
        if (key.length != DATA_KEY_BYTES) {
            Arrays.fill(key, (byte) 0);
            throw new GeneralSecurityException("the data key has the wrong length");
        }
        return key;
    }

    public String kekId() {
        return fixed().keyId();
    }
}
