package dev.tresor.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.AesGcmKey;
import java.security.GeneralSecurityException;
import javax.crypto.spec.SecretKeySpec;

/**
 * The KEK as Tink built it, except that ciphertexts of the primary AES-GCM key are decrypted with
 * pooled JDK ciphers ({@link AesGcmDecryption}): every secret read unwraps a data key, and Tink's
 * per-thread cipher cache does not survive a virtual thread per request. Encryption is Tink's;
 * any ciphertext the fast path does not take or cannot open is handed to Tink's own primitive,
 * so what decrypts (and what fails) is exactly what Tink decides.
 */
final class PooledKekAead implements Aead {

    private final Aead tink;
    private final byte[] prefix;
    private final SecretKeySpec key;
    private final AesGcmDecryption decryption = new AesGcmDecryption();

    private PooledKekAead(Aead tink, byte[] prefix, SecretKeySpec key) {
        this.tink = tink;
        this.prefix = prefix;
        this.key = key;
    }

    /** Wraps {@code tink} (the keyset's primitive) when its primary key is AES-GCM with Tink's usual sizes. */
    static Aead of(KeysetHandle handle, Aead tink) {
        if (handle.getPrimary().getKey() instanceof AesGcmKey primary
                && primary.getParameters().getIvSizeBytes() == AesGcmDecryption.IV_BYTES
                && primary.getParameters().getTagSizeBytes() == AesGcmDecryption.TAG_BYTES) {
            byte[] raw = primary.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get());
            try {
                return new PooledKekAead(tink, primary.getOutputPrefix().toByteArray(), new SecretKeySpec(raw, "AES"));
            } finally {
                java.util.Arrays.fill(raw, (byte) 0);
            }
        }
        return tink;
    }

    @Override
    public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
        return tink.encrypt(plaintext, associatedData);
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
        // The prefix names a key (public), so a plain comparison in place will do.
        if (ciphertext != null && ciphertext.length >= prefix.length
                && java.util.Arrays.equals(ciphertext, 0, prefix.length, prefix, 0, prefix.length)) {
            try {
                return decryption.decrypt(key, ciphertext, prefix.length, associatedData);
            } catch (GeneralSecurityException notThisKey) {
                // Another key of the keyset may share the prefix; Tink decides.
            }
        }
        return tink.decrypt(ciphertext, associatedData);
    }
}
