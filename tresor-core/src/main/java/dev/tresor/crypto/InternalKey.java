package dev.tresor.crypto;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.mac.PredefinedMacParameters;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/**
 * Tresor's own keys (the row MAC key) are Tink keysets stored only wrapped by the keyring, with the
 * key's purpose bound in as associated data so one wrapped key cannot stand in for another.
 */
public final class InternalKey {

    private InternalKey() {}

    public static byte[] newWrappedMacKey(KeyProvider kek, String purpose) {
        TinkRuntime.ensureRegistered();
        try {
            KeysetHandle handle = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG);
            return TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, kek.kek(), context(purpose));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate the " + purpose + " key", e);
        }
    }

    public static Mac unwrapMac(KeyProvider kek, String purpose, byte[] wrapped) throws GeneralSecurityException {
        TinkRuntime.ensureRegistered();
        KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(
                wrapped, kek.kek(), context(purpose));
        return PooledHmac.of(handle);
    }

    /** Moves an internal key from one wrapping key to another (e.g. from the KEK to the keyring). */
    public static byte[] rewrap(KeyProvider from, KeyProvider to, String purpose, byte[] wrapped)
            throws GeneralSecurityException {
        TinkRuntime.ensureRegistered();
        KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, from.kek(), context(purpose));
        return TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, to.kek(), context(purpose));
    }

    private static byte[] context(String purpose) {
        return ("tresor/internal-key/" + purpose + "/v1").getBytes(StandardCharsets.UTF_8);
    }
}
