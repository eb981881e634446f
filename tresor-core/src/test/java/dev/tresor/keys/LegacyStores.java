package dev.tresor.keys;

import dev.tresor.crypto.Canonical;
import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.RowAuthenticator;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Keyring;
import dev.tresor.integrity.RowSeals;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.store.TestDatabase;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Puts a store into the shape every store had before schema 6: each data key and the row MAC key
 * wrapped directly by the KEK, no keyring. Tests build a store with today's code, then turn it into
 * a pre-keyring one this way, because the old code no longer exists to write one.
 */
final class LegacyStores {

    private LegacyStores() {}

    static Keyring keyring(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        Map<String, Object> row = db.row("keyring", "id = 1");
        return Keyring.unwrap(new KeyringRow((String) row.get("store_id"), ((Number) row.get("version")).longValue(),
                (String) row.get("kek_id"), (byte[]) row.get("wrapped"), ((Number) row.get("updated_at")).longValue()), kek);
    }

    /** The store's row MAC key (unwrapped with the keyring, which the KEK unwraps). */
    static RowAuthenticator rowMac(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        return new RowAuthenticator(InternalKey.unwrapMac(keyring(db, kek), "row-mac",
                (byte[]) db.row("crypto_keys", "purpose = 'row-mac'").get("wrapped")));
    }

    /**
     * Puts the store head back into the shape it had before schema 7: sealed over the ACL and
     * secret heads only (format v1), no keyring version.
     */
    static void legacyStoreHead(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        RowAuthenticator auth = rowMac(db, kek);
        Map<String, Object> head = db.row("store_head", "id = 1");
        byte[] mac = auth.mac(Canonical.of("tresor/row/store_head/v1").number(((Number) head.get("acl_epoch")).longValue())
                .bytes((byte[]) head.get("acl_mac")).number(((Number) head.get("secret_epoch")).longValue())
                .bytes((byte[]) head.get("secret_mac")));
        db.sql("UPDATE store_head SET keyring_version = NULL, mac = ? WHERE id = 1", (Object) mac);
    }

    /** Rewrites every key under the KEK and drops the keyring; returns how many data keys moved. */
    static int downgrade(TestDatabase db, KeyProvider kek) throws GeneralSecurityException {
        legacyStoreHead(db, kek);
        Keyring keyring = keyring(db, kek);
        int moved = 0;
        for (Map<String, Object> v : db.rows("secret_versions", "wrapped_key IS NOT NULL")) {
            String secret = (String) v.get("secret_name");
            int version = ((Number) v.get("version")).intValue();
            byte[] context = RowSeals.keyContext(secret, version, groups(db, secret));
            byte[] key = keyring.kek().decrypt((byte[]) v.get("wrapped_key"), context);
            byte[] legacy = kek.kek().encrypt(key, context);
            Arrays.fill(key, (byte) 0);
            db.sql("UPDATE secret_versions SET kek_id = ?, wrapped_key = ? WHERE secret_name = ? AND version = ?",
                    kek.keyId(), legacy, secret, version);
            moved++;
        }
        byte[] rowMac = (byte[]) db.row("crypto_keys", "purpose = 'row-mac'").get("wrapped");
        db.sql("UPDATE crypto_keys SET kek_id = ?, wrapped = ? WHERE purpose = 'row-mac'", kek.keyId(),
                InternalKey.rewrap(keyring, kek, "row-mac", rowMac));
        db.sql("DELETE FROM keyring");
        return moved;
    }

    static List<String> groups(TestDatabase db, String secret) {
        String text = (String) db.row("secrets", "name = ?", secret).get("groups");
        return text.isEmpty() ? List.of() : Arrays.asList(text.split(","));
    }
}
