package dev.tresor.keys;

import dev.tresor.crypto.Keyring;
import dev.tresor.store.StoreReader;

/**
 * Where the store head and the secret service get the keyring from: this node's copy, brought up to
 * date when another node changed the stored keyring (see {@link KeyringHolder}).
 */
public interface KeyringSource {

    /** This node's copy of the keyring: what it opens data keys with and wraps new ones under. */
    Keyring current();

    /**
     * Inside a transaction: this node's copy brought up to the keyring row as stored now, and
     * returned. Write transactions call it while holding a head lock that keyring changes also
     * take, so the keyring cannot change again before they commit.
     *
     * @throws dev.tresor.model.IntegrityViolation if the row is missing, names another store or is
     *         older than this node's copy (put back from an older copy)
     * @throws dev.tresor.model.TresorException (503) if a newer row does not open with this node's
     *         KEK and is not the same keys under another KEK
     */
    Keyring syncIn(StoreReader r);

    /**
     * On a read whose data key names a key {@link #current()} lacks: re-reads the stored keyring
     * and takes it if it is newer. True if the current keyring now holds the key.
     */
    default boolean refreshFor(byte[] wrappedKey) {
        return false;
    }

    /** A keyring that never changes (tests of the parts below the keyring). */
    static KeyringSource fixed(Keyring keyring) {
        return new KeyringSource() {
            @Override
            public Keyring current() {
                return keyring;
            }

            @Override
            public Keyring syncIn(StoreReader r) {
                return keyring;
            }
        };
    }
}
