package dev.tresor.keys;

import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Keyring;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.StoreHeads;
import dev.tresor.model.Failure;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.TresorException;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConflictException;
import dev.tresor.store.StoreWriter;
import java.security.GeneralSecurityException;
import java.time.Clock;

/**
 * Changes to the keyring while Tresor runs: a new primary key ({@code rotate --keyring}, first
 * step) and a re-wrap under a new KEK ({@code rotate --kek}). Each is one transaction that takes
 * the ACL head, secret ledger head and store head locks in the order every writer takes them, so no
 * write under the old keyring can commit after it; it replaces the keyring row (its version moves)
 * and re-seals the store head over the new keyring. Other nodes see the change at their next write
 * or at the first data key their keyring lacks ({@link KeyringHolder}).
 */
public final class KeyringChanges {

    private final Store store;
    private final KeyringHolder keyrings;
    private final StoreHeads heads;
    private final IntegrityMonitor monitor;
    private final Clock clock;

    public KeyringChanges(Store store, KeyringHolder keyrings, StoreHeads heads, IntegrityMonitor monitor, Clock clock) {
        this.store = store;
        this.keyrings = keyrings;
        this.heads = heads;
        this.monitor = monitor;
        this.clock = clock;
    }

    /** What a change did: the keyring before and after, and the KEK that wraps it now. */
    public record Change(Keyring before, Keyring after, String fromKekId, String toKekId) {}

    /**
     * Re-wraps the keyring under {@code newKek} (a new KEK version, or another provider's key): one
     * row, whatever the store holds, so it is O(1) and online. The version moves, so the row wrapped
     * by the old KEK cannot be put back unnoticed. This node's KEK must still open the current row:
     * that proves it is the store's KEK being replaced.
     */
    public Change rewrapUnder(KeyProvider newKek) {
        KeyProvider oldKek = keyrings.kek();
        Change change = change(oldKek, (w, current) -> current.nextVersion(), newKek);
        keyrings.advanced(change.after(), newKek);
        return change;
    }

    /**
     * Adds a fresh primary key (the start of a keyring rotation: new data keys use it at once;
     * re-wrapping the older ones is a later step). The row MAC key moves under the new primary in
     * the same transaction, so a keyring row put back from before the change does not open it.
     */
    public Change addPrimary() {
        KeyProvider kek = keyrings.kek();
        Change change = change(kek, (w, current) -> {
            Keyring next = current.withNewPrimary();
            moveRowMacKey(w, current, next);
            return next;
        }, kek);
        keyrings.advanced(change.after(), kek);
        return change;
    }

    /**
     * Drops every key but the primary from the keyring (the end of a keyring rotation), if no data
     * key names one of them any more: checked in the same transaction, which holds the head locks
     * every writer takes, so no data key under an older key can appear meanwhile. Returns empty,
     * changing nothing, while some still do (and says how many in {@code stillUnder}).
     */
    public java.util.Optional<Change> retireOlderKeys(java.util.function.LongConsumer stillUnder) {
        KeyProvider kek = keyrings.kek();
        long[] left = {0};
        Change change;
        try {
            change = change(kek, (w, current) -> {
                byte[] primary = current.primaryPrefix();
                for (dev.tresor.store.Rows.KeyPrefixCount c : w.wrappedKeyPrefixCounts(Keyring.KEY_ID_PREFIX_BYTES)) {
                    if (!java.util.Arrays.equals(c.prefix(), primary)) {
                        left[0] += c.count();
                    }
                }
                if (left[0] > 0) {
                    throw new StillInUse();
                }
                if (current.size() == 1) {
                    throw new StillInUse();
                }
                Keyring next = current.withOnlyPrimary();
                // Under the primary since addPrimary; moved again all the same so that retiring cannot strand it.
                moveRowMacKey(w, current, next);
                return next;
            }, kek);
        } catch (StillInUse e) {
            stillUnder.accept(left[0]);
            return java.util.Optional.empty();
        }
        keyrings.advanced(change.after(), kek);
        return java.util.Optional.of(change);
    }

    /** Re-wraps the row MAC key from {@code current} to {@code next}'s primary, in the caller's transaction. */
    private static void moveRowMacKey(StoreWriter w, Keyring current, Keyring next) {
        KeyRow rowMac = w.key(KeyHierarchy.ROW_MAC_KEY)
                .orElseThrow(() -> new IllegalStateException("the row MAC key is missing"));
        try {
            w.updateKey(new KeyRow(KeyHierarchy.ROW_MAC_KEY, next.keyId(),
                    InternalKey.rewrap(current, next, KeyHierarchy.ROW_MAC_KEY, rowMac.wrapped()), rowMac.createdAt()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the row MAC key does not unwrap under the keyring; nothing changed", e);
        }
    }

    /** Thrown inside the transaction to leave it unchanged: an older key still wraps data keys (or there is none). */
    private static final class StillInUse extends RuntimeException {
        StillInUse() {
            super(null, null, false, false);
        }
    }

    /**
     * The key hierarchy as stored now: the KEK that wraps the keyring, the keyring's version, primary
     * key and size, and how many data keys each key wraps (keys of the keyring as {@code keyring:<id>};
     * anything else, such as data keys a conversion left unreadable, under the id their prefix names).
     */
    public record Status(String kekId, long keyringVersion, String primaryKeyId, int keys,
                         java.util.SortedMap<String, Long> dataKeysByKeyId, java.time.Instant updatedAt) {}

    public Status status() {
        return store.read(r -> {
            Keyring keyring = keyrings.syncIn(r);
            KeyringRow row = r.keyring().orElseThrow();
            java.util.SortedMap<String, Long> counts = new java.util.TreeMap<>();
            for (dev.tresor.store.Rows.KeyPrefixCount c : r.wrappedKeyPrefixCounts(Keyring.KEY_ID_PREFIX_BYTES)) {
                Integer id = Keyring.keyIdOf(c.prefix());
                String name = id == null ? "(no key id)" : (keyring.keyIds().contains(id) ? "keyring:" : "other:")
                        + Integer.toUnsignedString(id);
                counts.merge(name, c.count(), Long::sum);
            }
            for (Integer id : keyring.keyIds()) {
                counts.putIfAbsent("keyring:" + Integer.toUnsignedString(id), 0L);
            }
            return new Status(row.kekId(), row.version(), keyring.keyId(), keyring.size(), counts,
                    java.time.Instant.ofEpochMilli(row.updatedAt()));
        });
    }

    @FunctionalInterface
    private interface Step {
        Keyring next(StoreWriter w, Keyring current);
    }

    private Change change(KeyProvider oldKek, Step step, KeyProvider newKek) {
        try {
            return store.write(w -> {
                w.lockAclHead();
                w.lockSecretHead();
                Keyring synced = keyrings.syncIn(w);
                KeyringRow row = w.keyring().orElseThrow();
                Keyring current;
                try {
                    // With the KEK, not from this node's copy: only a KEK that opens the stored row may change it.
                    current = Keyring.unwrap(row, oldKek);
                } catch (dev.tresor.crypto.KekUnavailableException e) {
                    throw new TresorException(Failure.UNAVAILABLE, "this node's KEK (" + oldKek.keyId()
                            + ") cannot be used now, so the keyring did not change (reads go on): " + e.getMessage());
                } catch (GeneralSecurityException e) {
                    throw new TresorException(Failure.UNAVAILABLE, "this node's KEK (" + oldKek.keyId()
                            + ") does not open the keyring (version " + row.version() + ", wrapped by " + row.kekId()
                            + "): configure keyProvider for the store's current KEK; nothing changed");
                }
                if (current.version() != synced.version()) {
                    throw new IllegalStateException("the keyring moved while it was read; retry");
                }
                Keyring next = step.next(w, current);
                if (!w.replaceKeyring(next.wrap(newKek, clock.millis()), row.version())) {
                    throw new StoreConflictException("the keyring changed at the same time; retry", null);
                }
                String problem = heads.bindAfterKeyringChange(w, current, next);
                if (problem != null) {
                    monitor.violation("store head", problem);
                    throw new IntegrityViolation("store head", problem);
                }
                return new Change(current, next, row.kekId(), newKek.keyId());
            });
        } catch (StoreConflictException e) {
            throw TresorException.conflict("the keyring changed at the same time; retry");
        }
    }
}
