package dev.tresor.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.security.GeneralSecurityException;

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

    private final KeyProvider keyProvider;

    public Envelope(KeyProvider keyProvider) {
        TinkRuntime.ensureRegistered();
        this.keyProvider = keyProvider;
    }

    public record Sealed(byte[] wrappedKey, byte[] ciphertext, String kekId) {}

    public Sealed seal(byte[] plaintext, byte[] keyContext, byte[] valueContext) {
        try {
            KeysetHandle dataKey = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
            Aead aead = dataKey.getPrimitive(TinkRuntime.configuration(), Aead.class);
            byte[] ciphertext = aead.encrypt(plaintext, valueContext);
            byte[] wrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(dataKey, keyProvider.kek(), keyContext);
            return new Sealed(wrapped, ciphertext, keyProvider.keyId());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing a value failed", e);
        }
    }

    /** Opens a value; throws {@link GeneralSecurityException} if anything bound into it was changed. */
    public byte[] open(byte[] wrappedKey, byte[] ciphertext, byte[] keyContext, byte[] valueContext)
            throws GeneralSecurityException {
        KeysetHandle dataKey = TinkProtoKeysetFormat.parseEncryptedKeyset(
                wrappedKey, keyProvider.kek(), keyContext);
        Aead aead = dataKey.getPrimitive(TinkRuntime.configuration(), Aead.class);
        return aead.decrypt(ciphertext, valueContext);
    }

    /** Re-wraps a data key under a new key context (e.g. after a grant changed) without touching the value. */
    public byte[] rewrap(byte[] wrappedKey, byte[] oldKeyContext, byte[] newKeyContext) throws GeneralSecurityException {
        KeysetHandle dataKey = TinkProtoKeysetFormat.parseEncryptedKeyset(
                wrappedKey, keyProvider.kek(), oldKeyContext);
        return TinkProtoKeysetFormat.serializeEncryptedKeyset(dataKey, keyProvider.kek(), newKeyContext);
    }

    public String kekId() {
        return keyProvider.keyId();
    }
}
