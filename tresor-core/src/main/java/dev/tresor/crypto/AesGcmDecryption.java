package dev.tresor.crypto;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Decrypts Tink's AES-GCM ciphertexts ({@code prefix || 12-byte IV || ciphertext || 16-byte tag},
 * the format of {@code AesGcmJce} and of AES-GCM keyset entries) with the JDK's AES-GCM, reusing
 * {@link Cipher} objects from a pool.
 *
 * <p>Why not Tink for this: Tink keeps its {@code Cipher} in a {@code ThreadLocal}, and the API runs
 * every request on a new virtual thread, so every read built, looked up a provider for and
 * initialised fresh {@code Cipher} objects (~10 % of a read's CPU). Only decryption is done here;
 * encryption, where the nonce is chosen, stays with Tink, and tests check both directions agree.
 * A decryption that fails here is reported as Tink would (a {@link GeneralSecurityException}).
 */
final class AesGcmDecryption {

    static final int IV_BYTES = 12;
    static final int TAG_BYTES = 16;

    private final IdlePool<Cipher> idle = new IdlePool<>();

    /** Decrypts {@code input} from {@code offset} on (the bytes before it are the key's output prefix). */
    byte[] decrypt(SecretKeySpec key, byte[] input, int offset, byte[] associatedData) throws GeneralSecurityException {
        if (input.length - offset < IV_BYTES + TAG_BYTES) {
            throw new GeneralSecurityException("ciphertext too short");
        }
        Cipher cipher = idle.take();
        if (cipher == null) {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
        }
        // Re-initialised for every call (never reused with an old IV); a Cipher that failed is dropped.
        cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BYTES * 8, input, offset, IV_BYTES));
        if (associatedData != null && associatedData.length > 0) {
            cipher.updateAAD(associatedData);
        }
        byte[] plaintext = cipher.doFinal(input, offset + IV_BYTES, input.length - offset - IV_BYTES);
        idle.give(cipher);
        return plaintext;
    }
}
