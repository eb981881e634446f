package dev.tresor.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import dev.tresor.store.Rows.KeyringRow;
import java.security.GeneralSecurityException;
import java.util.HashSet;
import java.util.Set;

/**
 * Tresor's working keys (Vault's "barrier" keyring): a Tink keyset of AES-256-GCM keys, stored
 * only wrapped by the key provider's KEK. The primary key wraps every new data key and Tresor's
 * own keys; the older keys still open what they wrapped until a re-wrap retires them. The KEK is
 * needed only to unwrap the keyring at start-up and to re-wrap it when it changes, so a read never
 * waits on an HSM or a KMS.
 *
 * <p>It is a {@link KeyProvider} itself, so {@link Envelope} and {@link InternalKey} wrap under it
 * exactly as they wrapped under a KEK before. Immutable: a change yields a new keyring of the next
 * version, which the caller stores with {@link #wrap}.
 *
 * <p>The wrapping binds, as associated data, the store's random id (a keyring row copied from
 * another store under the same KEK does not open) and the version (a row cannot claim a version it
 * was not sealed as).
 */
public final class Keyring implements KeyProvider {

    /** Tink's output prefix: one version byte (0x01 for TINK) and the 4-byte key id, big-endian. */
    public static final int KEY_ID_PREFIX_BYTES = 5;
    private static final byte TINK_PREFIX = 0x01;

    private final String storeId;
    private final long version;
    private final KeysetHandle keyset;
    private final Aead aead;
    private final String keyId;

    private Keyring(String storeId, long version, KeysetHandle keyset) throws GeneralSecurityException {
        this.storeId = storeId;
        this.version = version;
        this.keyset = keyset;
        requireAes256Gcm(keyset);
        this.aead = PooledKekAead.of(keyset, keyset.getPrimitive(TinkRuntime.configuration(), Aead.class));
        this.keyId = "keyring:" + Integer.toUnsignedString(keyset.getPrimary().getId());
    }

    /** A new keyring (version 1) with one key, for a store that has none. */
    public static Keyring generate(String storeId) {
        TinkRuntime.ensureRegistered();
        try {
            return new Keyring(storeId, 1, KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate the keyring", e);
        }
    }

    /**
     * Opens a stored keyring with the KEK. Fails if the KEK is another one, or if any byte of the
     * row, its store id or its version was changed.
     */
    public static Keyring unwrap(KeyringRow row, KeyProvider kek) throws GeneralSecurityException {
        TinkRuntime.ensureRegistered();
        KeysetHandle keyset = TinkProtoKeysetFormat.parseEncryptedKeyset(row.wrapped(), kek.kek(),
                associatedData(row.storeId(), row.version()));
        return new Keyring(row.storeId(), row.version(), keyset);
    }

    /** This keyring wrapped by {@code kek}, as the row to store. */
    public KeyringRow wrap(KeyProvider kek, long updatedAt) {
        try {
            byte[] wrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(keyset, kek.kek(),
                    associatedData(storeId, version));
            return new KeyringRow(storeId, version, kek.keyId(), wrapped, updatedAt);
        } catch (KekUnavailableException e) {
            // The HSM or KMS cannot answer now: this change fails (503) and nothing is stored; reads go on.
            throw new dev.tresor.model.TresorException(dev.tresor.model.Failure.UNAVAILABLE, "the KEK (" + kek.keyId()
                    + ") cannot be used now, so the keyring did not change (reads go on): " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the KEK (" + kek.keyId() + ") could not wrap the keyring", e);
        }
    }

    /** The next version, with the same keys: for re-wrapping under a new KEK (the version moves so an old row cannot return unnoticed). */
    public Keyring nextVersion() {
        try {
            return new Keyring(storeId, version + 1, keyset);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot copy the keyring", e);
        }
    }

    /** The next version with a fresh primary key; the older keys stay to open what they wrapped. */
    public Keyring withNewPrimary() {
        try {
            KeysetHandle next = KeysetHandle.newBuilder(keyset)
                    .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES256_GCM)
                            .withRandomId().makePrimary())
                    .build();
            return new Keyring(storeId, version + 1, next);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot add a key to the keyring", e);
        }
    }

    /**
     * The next version with only the primary key: the end of a keyring rotation, once no data key
     * names an older key (the caller checks that in the same transaction).
     */
    public Keyring withOnlyPrimary() {
        try {
            KeysetHandle.Builder builder = KeysetHandle.newBuilder(keyset);
            for (int i = builder.size() - 1; i >= 0; i--) {
                if (!builder.getAt(i).isPrimary()) {
                    builder.deleteAt(i);
                }
            }
            return new Keyring(storeId, version + 1, builder.build());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot drop the older keys of the keyring", e);
        }
    }

    /** The Tink output prefix (version byte and key id) that every ciphertext of the primary key starts with. */
    public byte[] primaryPrefix() {
        int id = keyset.getPrimary().getId();
        return new byte[] {TINK_PREFIX, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id};
    }

    /**
     * This keyring's keys under another version number, for a node that learnt from the store head
     * (authenticated by the row MAC key, which only Tresor holds) that the stored keyring at
     * {@code newVersion} has exactly these keys: another node re-wrapped it under a new KEK, which
     * this node's KEK cannot open.
     */
    public Keyring withVersion(long newVersion) {
        if (newVersion < version) {
            throw new IllegalArgumentException("a keyring version only moves forward");
        }
        try {
            return new Keyring(storeId, newVersion, keyset);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot copy the keyring", e);
        }
    }

    /**
     * The public identity of this keyring's keys (store id, primary key id, every key id, sorted),
     * as bound into the store head: two keyrings with the same fingerprint wrap and unwrap alike.
     * Holds nothing secret (key ids are in every wrapped data key's prefix).
     */
    public byte[] fingerprint() {
        java.util.List<String> ids = keyIds().stream().sorted().map(Integer::toUnsignedString).toList();
        return Canonical.of("tresor/keyring-keys/v1").string(storeId)
                .string(Integer.toUnsignedString(keyset.getPrimary().getId())).strings(ids).toBytes();
    }

    /** True if {@code wrapped} (a ciphertext of this keyring's format) names a key this keyring holds. */
    public boolean holdsKeyOf(byte[] wrapped) {
        Integer id = keyIdOf(wrapped);
        return id != null && keyIds().contains(id);
    }

    /** The key id in a Tink-prefixed ciphertext, or null if it carries no such prefix. */
    public static Integer keyIdOf(byte[] wrapped) {
        if (wrapped == null || wrapped.length < KEY_ID_PREFIX_BYTES || wrapped[0] != TINK_PREFIX) {
            return null;
        }
        return ((wrapped[1] & 0xff) << 24) | ((wrapped[2] & 0xff) << 16) | ((wrapped[3] & 0xff) << 8) | (wrapped[4] & 0xff);
    }

    public Set<Integer> keyIds() {
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < keyset.size(); i++) {
            ids.add(keyset.getAt(i).getId());
        }
        return ids;
    }

    public int size() {
        return keyset.size();
    }

    public String storeId() {
        return storeId;
    }

    public long version() {
        return version;
    }

    /** Names the primary key (public), stored beside each data key it wraps. */
    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public Aead kek() {
        return aead;
    }

    private static byte[] associatedData(String storeId, long version) {
        return Canonical.of("tresor/keyring/v1").string(storeId).number(version).toBytes();
    }

    /** A keyring is only ever AES-256-GCM keys; anything else in the row is not one Tresor wrote. */
    private static void requireAes256Gcm(KeysetHandle keyset) throws GeneralSecurityException {
        for (int i = 0; i < keyset.size(); i++) {
            if (!(keyset.getAt(i).getKey() instanceof AesGcmKey key)
                    || key.getParameters().getKeySizeBytes() != 32
                    || key.getParameters().getVariant() != AesGcmParameters.Variant.TINK) {
                throw new GeneralSecurityException("the keyring holds a key that is not AES-256-GCM");
            }
        }
    }
}
