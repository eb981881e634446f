package dev.tresor.keys;

import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Keyring;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.model.Failure;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.TresorException;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.store.Rows.StoreHeadRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreReader;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's keyring, kept current while other nodes on the same database change the stored one.
 *
 * <p>The KEK is called only when the stored keyring row is newer than this node's copy: inside a
 * write transaction ({@link #syncIn}, which every store-head binding and every wrap under the
 * keyring goes through), or on a read that meets a data key naming a key this copy lacks
 * ({@link #refreshFor}). A newer row is accepted only if the store head, sealed under the row MAC
 * key, names exactly its version and keys. A row that does not open with this node's KEK (another
 * node re-wrapped the keyring under a new KEK) is still accepted when the store head proves it
 * holds the same keys as this node's copy, so the node keeps working until its KEK is updated; a
 * row with other keys then needs the new KEK.
 *
 * <p>The copy only moves forward: a stored row older than it is a rollback and is refused.
 */
public final class KeyringHolder implements KeyringSource {

    private static final Logger LOG = LoggerFactory.getLogger(KeyringHolder.class);

    private final Store store;
    private final IntegrityMonitor monitor;
    private final Object lock = new Object();
    private volatile KeyProvider kek;
    private final RowSeals seals;
    private volatile Keyring current;
    /** The last stored row that did not open (so a bad row costs one KEK call, not one per read). */
    private volatile KeyringRow failed;
    private volatile RuntimeException failure;

    /** @param seals the row seals (under the row MAC key, which {@code opened} unwrapped) that check the store head */
    public KeyringHolder(Store store, KeyProvider kek, Keyring opened, RowSeals seals, IntegrityMonitor monitor) {
        this.store = store;
        this.kek = kek;
        this.current = opened;
        this.seals = seals;
        this.monitor = monitor;
    }

    @Override
    public Keyring current() {
        return current;
    }

    /** The KEK this node opens newer keyring rows with. */
    public KeyProvider kek() {
        return kek;
    }

    /** After this node changed the keyring itself (in a committed transaction): use the new copy, and {@code newKek} from now on. */
    public void advanced(Keyring next, KeyProvider newKek) {
        synchronized (lock) {
            if (next.version() > current.version()) {
                current = next;
            }
            kek = newKek;
        }
    }

    @Override
    public Keyring syncIn(StoreReader r) {
        Keyring mine = current;
        KeyringRow row = r.keyring().orElseThrow(() -> violation("the keyring row is missing"));
        if (!row.storeId().equals(mine.storeId())) {
            throw violation("the keyring row names another store (" + printable(row.storeId()) + ")");
        }
        if (row.version() == mine.version()) {
            return mine;
        }
        if (row.version() < mine.version()) {
            throw violation("the keyring row is at version " + row.version() + ", older than version " + mine.version()
                    + " this node opened: it was put back from an older copy");
        }
        return advance(open(row, r.storeHead(), mine));
    }

    /**
     * On a read whose data key names a key this copy lacks: re-reads the keyring row and, if it is
     * newer, opens it. Returns true if the copy now holds the key.
     */
    @Override
    public boolean refreshFor(byte[] wrappedKey) {
        Keyring mine = current;
        if (mine.holdsKeyOf(wrappedKey) || Keyring.keyIdOf(wrappedKey) == null) {
            return false;
        }
        record Snapshot(KeyringRow row, Optional<StoreHeadRow> head) {}
        Snapshot s = store.read(r -> new Snapshot(r.keyring().orElse(null), r.storeHead()));
        if (s.row() == null || s.row().version() <= mine.version() || !s.row().storeId().equals(mine.storeId())) {
            return false; // nothing newer: the data key itself is what is wrong
        }
        return advance(open(s.row(), s.head(), mine)).holdsKeyOf(wrappedKey);
    }

    private Keyring open(KeyringRow row, Optional<StoreHeadRow> head, Keyring mine) {
        KeyringRow seen = failed;
        if (seen != null && sameRow(seen, row)) {
            throw failure;
        }
        Keyring next;
        try {
            next = Keyring.unwrap(row, kek);
        } catch (GeneralSecurityException e) {
            if (head.isPresent() && seals.validWithKeysOf(head.get(), mine, row.version())) {
                LOG.warn("keyring version {} was re-wrapped under KEK {} by another node; this node's KEK ({}) no longer "
                        + "opens it, but it holds the same keys, so this node goes on. Update keyProvider to the new KEK "
                        + "before the next restart.", row.version(), printable(row.kekId()), kek.keyId());
                return mine.withVersion(row.version());
            }
            throw remember(row, new TresorException(Failure.UNAVAILABLE, "the keyring changed to version "
                    + row.version() + ", wrapped by KEK " + printable(row.kekId()) + ", which this node's KEK ("
                    + kek.keyId() + ") does not open: configure keyProvider for the new KEK and restart this node"));
        }
        if (head.isEmpty() || !seals.valid(head.get(), next)) {
            throw remember(row, violation("the keyring row at version " + row.version()
                    + " is not the keyring the store head names"));
        }
        return next;
    }

    private Keyring advance(Keyring next) {
        synchronized (lock) {
            if (next.version() > current.version()) {
                current = next;
                LOG.info("keyring version {} in use (changed by another node); primary key {}", next.version(),
                        next.keyId());
            }
            return current;
        }
    }

    private RuntimeException remember(KeyringRow row, RuntimeException e) {
        failure = e;
        failed = row;
        return e;
    }

    private IntegrityViolation violation(String problem) {
        monitor.violation("keyring", problem);
        return new IntegrityViolation("keyring", problem);
    }

    private static boolean sameRow(KeyringRow a, KeyringRow b) {
        return a.version() == b.version() && a.storeId().equals(b.storeId()) && a.kekId().equals(b.kekId())
                && Arrays.equals(a.wrapped(), b.wrapped());
    }

    private static String printable(String s) {
        return s.codePoints().allMatch(c -> c >= 0x20 && c < 0x7f) && s.length() <= 200 ? s : "(unreadable)";
    }
}
