package dev.tresor.tamper;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.Key;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.mac.HmacKey;
import com.google.crypto.tink.mac.MacConfig;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Keyring;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.integrity.RowSeals;
import dev.tresor.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recovers, with the KEK (which the attacker does not have, but the test does), the raw key bytes
 * Tresor keeps wrapped, so a test can check that none of them is also stored in clear.
 */
final class KeyMaterial {

    static {
        try {
            AeadConfig.register();
            MacConfig.register();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private KeyMaterial() {}

    /** The store's keyring, unwrapped from its row with the KEK. */
    static Keyring keyring(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        Map<String, Object> row = db.row("keyring", "id = 1");
        return Keyring.unwrap(new KeyringRow((String) row.get("store_id"), ((Number) row.get("version")).longValue(),
                (String) row.get("kek_id"), (byte[]) row.get("wrapped"), ((Number) row.get("updated_at")).longValue()), kek);
    }

    /** Every raw AES key of the keyring, by "keyring key ID". */
    static Map<String, byte[]> keyringKeys(TestDatabase db, KeyProvider kek) throws Exception {
        Map<String, byte[]> out = new LinkedHashMap<>();
        Map<String, Object> row = db.row("keyring", "id = 1");
        byte[] aad = dev.tresor.crypto.Canonical.of("tresor/keyring/v1").string((String) row.get("store_id"))
                .number(((Number) row.get("version")).longValue()).toBytes();
        KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset((byte[]) row.get("wrapped"), kek.kek(), aad);
        for (int i = 0; i < handle.size(); i++) {
            out.put("keyring key " + Integer.toUnsignedString(handle.getAt(i).getId()), raw(handle.getAt(i).getKey()));
        }
        return out;
    }

    /** Every live version's raw AES data key, by "secret vN" (data keys are wrapped by the keyring). */
    static Map<String, byte[]> dataKeys(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        KeyProvider ring = keyring(db, kek);
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map<String, Object> v : db.rows("secret_versions", "wrapped_key IS NOT NULL")) {
            String secret = (String) v.get("secret_name");
            int version = ((Number) v.get("version")).intValue();
            String groupsText = (String) db.row("secrets", "name = ?", secret).get("groups");
            List<String> groups = groupsText.isEmpty() ? List.of() : Arrays.asList(groupsText.split(","));
            // A data key is stored as keyring-AEAD(raw 32-byte key, key context).
            out.put(secret + " v" + version, ring.kek().decrypt((byte[]) v.get("wrapped_key"),
                    RowSeals.keyContext(secret, version, groups)));
        }
        return out;
    }

    static byte[] rowMacKey(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        byte[] wrapped = (byte[]) db.row("crypto_keys", "purpose = 'row-mac'").get("wrapped");
        KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, keyring(db, kek).kek(),
                "tresor/internal-key/row-mac/v1".getBytes(StandardCharsets.UTF_8));
        return raw(handle.getPrimary().getKey());
    }

    static byte[] kek(Path keyFile) throws Exception {
        KeysetHandle handle = TinkJsonProtoKeysetFormat.parseKeyset(Files.readString(keyFile),
                InsecureSecretKeyAccess.get());
        return raw(handle.getPrimary().getKey());
    }

    private static byte[] raw(Key key) {
        return switch (key) {
            case AesGcmKey k -> k.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get());
            case HmacKey k -> k.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get());
            default -> throw new IllegalArgumentException("unexpected key type " + key.getClass());
        };
    }
}
