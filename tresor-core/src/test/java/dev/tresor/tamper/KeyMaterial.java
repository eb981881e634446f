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

    /** Every live version's raw AES data key, by "secret vN". */
    static Map<String, byte[]> dataKeys(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map<String, Object> v : db.rows("secret_versions", "wrapped_key IS NOT NULL")) {
            String secret = (String) v.get("secret_name");
            int version = ((Number) v.get("version")).intValue();
            String groupsText = (String) db.row("secrets", "name = ?", secret).get("groups");
            List<String> groups = groupsText.isEmpty() ? List.of() : Arrays.asList(groupsText.split(","));
            // A data key is stored as KEK-AEAD(raw 32-byte key, key context).
            out.put(secret + " v" + version, kek.kek().decrypt((byte[]) v.get("wrapped_key"),
                    RowSeals.keyContext(secret, version, groups)));
        }
        return out;
    }

    static byte[] rowMacKey(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        byte[] wrapped = (byte[]) db.row("crypto_keys", "purpose = 'row-mac'").get("wrapped");
        KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(wrapped, kek.kek(),
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
