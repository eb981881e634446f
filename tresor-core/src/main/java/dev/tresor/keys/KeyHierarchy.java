package dev.tresor.keys;

import dev.tresor.crypto.Envelope;
import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Keyring;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Rows.KeyringMigrationRow;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConflictException;
import dev.tresor.store.StoreWriter;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Opens the store's key hierarchy at start-up: KEK → keyring → (data keys, row MAC key). This is
 * the only place besides a keyring change that calls the KEK.
 *
 * <ul>
 *   <li>A fresh store gets a new keyring, wrapped by the KEK.</li>
 *   <li>A store from before schema 6 (data keys and the row MAC key wrapped directly by the KEK)
 *       is converted in <em>one</em> transaction: keyring created, every data key and the row MAC
 *       key re-wrapped under it, the conversion recorded. A process that dies half-way leaves the
 *       transaction uncommitted, so the store is exactly as before and the next start converts it
 *       again from the beginning.</li>
 *   <li>A store with a keyring has it unwrapped; a KEK that is not the store's, or a keyring row that
 *       was changed, refuses the start with a message saying so. A keyring row put back from an
 *       older copy is caught when data keys name keys the keyring does not hold, and (schema 7) when
 *       it is not the keyring the store head binds ({@code StoreHeads}).</li>
 * </ul>
 *
 * <p>Changes to the keyring while Tresor runs are {@link KeyringChanges}'.
 */
public final class KeyHierarchy {

    /** The row MAC key's purpose in crypto_keys (shared with {@code Tresor}). */
    public static final String ROW_MAC_KEY = "row-mac";
    /** The name under which the conversion of a pre-keyring store is recorded. */
    public static final String LEGACY_MIGRATION = "kek-to-keyring";

    private static final int PAGE = 500;

    /** Told how far the conversion of a pre-keyring store got (operators see it in the log). */
    @FunctionalInterface
    public interface Progress {
        void dataKeysRewrapped(long done);

        Progress NONE = done -> {};
    }

    private final Store store;
    private final KeyProvider kek;
    private final IntegrityMonitor monitor;
    private final Clock clock;
    private final Progress progress;
    private final SecureRandom random = new SecureRandom();

    public KeyHierarchy(Store store, KeyProvider kek, IntegrityMonitor monitor, Clock clock, Progress progress) {
        this.store = store;
        this.kek = kek;
        this.monitor = monitor;
        this.clock = clock;
        this.progress = progress;
    }

    /** Unwraps (creating or converting first if needed) the store's keyring; refuses to start on any doubt. */
    public Keyring open() {
        Keyring keyring;
        try {
            keyring = store.write(this::openIn);
        } catch (StoreConflictException raced) {
            // Another node created the keyring (or converted the store) at the same moment: use theirs.
            keyring = store.write(this::openIn);
        }
        checkNotRolledBack(keyring);
        return keyring;
    }

    private Keyring openIn(StoreWriter w) {
        Optional<KeyringRow> row = w.keyring();
        if (row.isPresent()) {
            return unwrap(row.get());
        }
        if (w.keyringMigration(LEGACY_MIGRATION).isPresent()) {
            monitor.violation("keyring", "the keyring row is missing");
            throw IntegrityViolation.refusingToOpen("keyring", "the keyring row is missing while the store was "
                    + "converted to a keyring (recorded in keyring_migrations)", "Restore the database from a backup");
        }
        Optional<KeyRow> rowMac = w.key(ROW_MAC_KEY);
        if (rowMac.isEmpty()) {
            if (w.anyClient() || w.aclHead().isPresent() || !w.secrets(null, null, 1).isEmpty()) {
                // Tresor.open words this refusal; a keyring must not be created for such a store.
                monitor.violation("crypto_keys", "the row MAC key is missing while the store holds data");
                throw IntegrityViolation.refusingToOpen("crypto_keys", "the row MAC key row is missing while the "
                        + "store holds clients or secrets", "Restore the database from a backup");
            }
            Keyring fresh = Keyring.generate(newStoreId());
            w.insertKeyring(fresh.wrap(kek, clock.millis()));
            return fresh;
        }
        return convertLegacy(w, rowMac.get());
    }

    private Keyring unwrap(KeyringRow row) {
        try {
            return Keyring.unwrap(row, kek);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the key provider's KEK (" + kek.keyId() + ") cannot unwrap this store's "
                    + "keyring (version " + row.version() + ", wrapped by " + row.kekId() + "): the store was made with "
                    + "another KEK (check keyProvider in the config: key file, HSM token and key label), or the keyring "
                    + "row was altered; refusing to start", e);
        }
    }

    /**
     * Converts a store whose keys the KEK wraps directly. All in the caller's transaction: nothing
     * of it is visible unless all of it commits.
     */
    private Keyring convertLegacy(StoreWriter w, KeyRow rowMac) {
        Keyring keyring = Keyring.generate(newStoreId());
        byte[] rowMacUnderKeyring;
        try {
            rowMacUnderKeyring = InternalKey.rewrap(kek, keyring, ROW_MAC_KEY, rowMac.wrapped());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the key provider's KEK (" + kek.keyId() + ") cannot unwrap this store's "
                    + "row MAC key (wrapped by " + rowMac.kekId() + "): the store was made with another KEK (check "
                    + "keyProvider in the config), or the key row was altered; refusing to start", e);
        }
        w.insertKeyring(keyring.wrap(kek, clock.millis()));
        w.updateKey(new KeyRow(ROW_MAC_KEY, keyring.keyId(), rowMacUnderKeyring, rowMac.createdAt()));
        long rewrapped = 0;
        long unreadable = 0;
        String after = null;
        while (true) {
            List<SecretRow> page = w.secrets(null, after, PAGE);
            for (SecretRow s : page) {
                for (VersionRow v : w.versions(s.name())) {
                    if (v.wrappedKey() == null) {
                        continue;
                    }
                    try {
                        byte[] moved = Envelope.transfer(kek, keyring, v.wrappedKey(),
                                RowSeals.keyContext(s.name(), v.version(), s.groups()));
                        // The version's MAC covers neither the wrapped key nor its KEK id, so it stays valid.
                        w.updateVersion(new VersionRow(v.secret(), v.version(), v.createdAt(), v.createdBy(),
                                v.expiresAt(), v.metadata(), keyring.keyId(), moved, v.ciphertext(), v.mac()));
                        rewrapped++;
                        progress.dataKeysRewrapped(rewrapped);
                    } catch (GeneralSecurityException e) {
                        // Already unreadable (its row or group list was changed): left exactly as it was, so it
                        // stays unreadable and still shows as tampered on every read.
                        unreadable++;
                        monitor.violation("secret " + s.name() + " v" + v.version(),
                                "data key does not unwrap under the KEK while moving to the keyring; left unreadable");
                    }
                }
            }
            if (page.size() < PAGE) {
                break;
            }
            after = page.getLast().name();
        }
        w.insertKeyringMigration(new KeyringMigrationRow(LEGACY_MIGRATION, kek.keyId(), keyring.version(), rewrapped,
                unreadable, clock.millis()));
        return keyring;
    }

    /**
     * A keyring row put back from before a key was added would make new values use an older key,
     * perhaps one already retired because it leaked. Every stored data key names (in its public
     * Tink prefix, which the AEAD authenticates) the keyring key that wrapped it; one naming a key
     * this keyring lacks means the keyring is older than the data. Data keys left unreadable by the
     * conversion still name the old KEK and are skipped.
     */
    private void checkNotRolledBack(Keyring keyring) {
        Integer legacyKek = store.read(r -> r.keyringMigration(LEGACY_MIGRATION)).map(KeyHierarchy::legacyKeyId)
                .orElse(null);
        List<byte[]> prefixes = store.read(r -> r.wrappedKeyPrefixes(Keyring.KEY_ID_PREFIX_BYTES));
        for (byte[] prefix : prefixes) {
            Integer id = Keyring.keyIdOf(prefix);
            if (keyring.holdsKeyOf(prefix) || (id != null && id.equals(legacyKek))) {
                continue;
            }
            String problem = "a data key was wrapped by keyring key " + (id == null ? "(unknown)"
                    : Integer.toUnsignedString(id)) + ", which keyring version " + keyring.version() + " does not hold: "
                    + "the keyring row was put back from an older copy or altered";
            monitor.violation("keyring", problem);
            throw IntegrityViolation.refusingToOpen("keyring", problem, "Restore the whole database from one backup");
        }
    }

    /** The Tink key id of a local KEK ("local:<id>"), whose prefix unreadable legacy data keys still carry. */
    private static Integer legacyKeyId(KeyringMigrationRow m) {
        String from = m.fromKekId();
        if (!from.startsWith("local:")) {
            return null;
        }
        try {
            return Integer.parseUnsignedInt(from.substring("local:".length()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private String newStoreId() {
        byte[] id = new byte[16];
        random.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
