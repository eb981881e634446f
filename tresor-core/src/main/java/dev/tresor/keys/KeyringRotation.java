package dev.tresor.keys;

import dev.tresor.crypto.Envelope;
import dev.tresor.crypto.Keyring;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.store.Rows.KeyPrefixCount;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import dev.tresor.store.Store;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A keyring rotation ({@code tresor key rotate --keyring}): a fresh primary key first (new data
 * keys use it at once, {@link KeyringChanges#addPrimary}), then every older data key re-wrapped
 * under it in small batches, then the older keys dropped from the keyring
 * ({@link KeyringChanges#retireOlderKeys}).
 *
 * <p>Its state is the data itself: each data key's public Tink prefix names the key that wraps it,
 * so a rotation cut short (a crash, SIGKILL, a restart) is resumed by running it again; nothing is
 * done twice and nothing is skipped. Each batch is one transaction that holds the head locks every
 * writer takes (writers wait for one batch at most) and reads the secret's groups, which the data
 * key's associated data binds, in that transaction. A version whose data key does not unwrap (its
 * row or group list was altered) is left exactly as it is, reported, and keeps its old key in the
 * keyring: retiring refuses while any data key names an older key.
 */
public final class KeyringRotation {

    /** How many secrets one batch transaction re-wraps at most. */
    public static final int DEFAULT_BATCH = 50;

    private final Store store;
    private final KeyringHolder keyrings;
    private final KeyringChanges changes;
    private final IntegrityMonitor monitor;

    public KeyringRotation(Store store, KeyringHolder keyrings, KeyringChanges changes, IntegrityMonitor monitor) {
        this.store = store;
        this.keyrings = keyrings;
        this.changes = changes;
        this.monitor = monitor;
    }

    /** What one batch did; {@code next} is where the next batch starts, null when the pass reached the end. */
    public record Batch(String next, int rewrapped, int unreadable) {}

    /** What a whole run did. */
    public record Result(long rewrapped, long unreadable, long stillUnderOlderKeys, Optional<KeyringChanges.Change> retired) {}

    /** Adds the fresh primary key: the start of a rotation. */
    public KeyringChanges.Change begin() {
        return changes.addPrimary();
    }

    /** Whether the keyring holds older keys, i.e. a rotation was begun and not finished. */
    public boolean unfinished() {
        return store.read(keyrings::syncIn).size() > 1;
    }

    /** Data keys not under the primary key now (what is left to re-wrap, or left unreadable). */
    public long remaining() {
        return store.read(r -> {
            byte[] primary = keyrings.syncIn(r).primaryPrefix();
            long left = 0;
            for (KeyPrefixCount c : r.wrappedKeyPrefixCounts(Keyring.KEY_ID_PREFIX_BYTES)) {
                if (!Arrays.equals(c.prefix(), primary)) {
                    left += c.count();
                }
            }
            return left;
        });
    }

    /** Re-wraps the data keys of at most {@code maxSecrets} secrets after {@code after} under the primary key. */
    public Batch rewrapBatch(String after, int maxSecrets) {
        return store.write(w -> {
            w.lockAclHead();
            w.lockSecretHead();
            Keyring keyring = keyrings.syncIn(w);
            byte[] primary = keyring.primaryPrefix();
            List<String> names = w.secretsWithDataKeysNotUnder(primary, after, maxSecrets);
            int rewrapped = 0;
            int unreadable = 0;
            for (String name : names) {
                Optional<SecretRow> secret = w.secret(name);
                for (VersionRow v : w.versions(name)) {
                    if (v.wrappedKey() == null || startsWith(v.wrappedKey(), primary)) {
                        continue;
                    }
                    try {
                        if (secret.isEmpty()) {
                            throw new GeneralSecurityException("the secret row is missing");
                        }
                        byte[] moved = Envelope.transfer(keyring, keyring, v.wrappedKey(),
                                RowSeals.keyContext(name, v.version(), secret.get().groups()));
                        // The version's MAC covers neither the wrapped key nor its key id, so it stays valid.
                        w.updateVersion(new VersionRow(v.secret(), v.version(), v.createdAt(), v.createdBy(),
                                v.expiresAt(), v.metadata(), keyring.keyId(), moved, v.ciphertext(), v.mac()));
                        rewrapped++;
                    } catch (GeneralSecurityException e) {
                        unreadable++;
                        monitor.violation("secret " + name + " v" + v.version(), "data key does not unwrap under the "
                                + "keyring while it is rotated; left as it is (it names key "
                                + Integer.toUnsignedString(Keyring.keyIdOf(v.wrappedKey()) == null ? 0
                                        : Keyring.keyIdOf(v.wrappedKey())) + ", which stays in the keyring)");
                    }
                }
            }
            return new Batch(names.size() < maxSecrets ? null : names.getLast(), rewrapped, unreadable);
        });
    }

    /**
     * One pass over the store in batches, then the retirement of the older keys if none wraps a data
     * key any more. {@code afterBatch} is told the running totals (for progress and throttling; it
     * may sleep, and an interrupt stops the run between batches).
     */
    public Result finish(int batchSize, Progress afterBatch) throws InterruptedException {
        long rewrapped = 0;
        long unreadable = 0;
        String cursor = null;
        do {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException("keyring rotation stopped after " + rewrapped + " data keys");
            }
            Batch batch = rewrapBatch(cursor, batchSize);
            rewrapped += batch.rewrapped();
            unreadable += batch.unreadable();
            cursor = batch.next();
            afterBatch.batchDone(rewrapped, unreadable);
        } while (cursor != null);
        long[] left = {0};
        Optional<KeyringChanges.Change> retired = changes.retireOlderKeys(n -> left[0] = n);
        return new Result(rewrapped, unreadable, left[0], retired);
    }

    /** Told after each batch. */
    @FunctionalInterface
    public interface Progress {
        void batchDone(long rewrappedSoFar, long unreadableSoFar) throws InterruptedException;
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }
}
