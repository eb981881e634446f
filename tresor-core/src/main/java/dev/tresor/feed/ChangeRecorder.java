package dev.tresor.feed;

import dev.tresor.store.Rows.ChangeRow;
import dev.tresor.store.StoreWriter;
import java.time.Clock;
import java.util.Collection;

/**
 * Records feed entries inside the transaction that makes the change, so a change and its entry
 * commit together or not at all. Entries name secrets, never values.
 */
public final class ChangeRecorder {

    private final Clock clock;

    public ChangeRecorder(Clock clock) {
        this.clock = clock;
    }

    /** Something happened to the secret itself: told to whoever may read it. */
    public void secret(StoreWriter w, ChangeKind kind, String secret, Integer version, String label) {
        w.appendChange(new ChangeRow(0, clock.millis(), kind.wireName(), secret, version, label, null, null));
    }

    /** A group's grant on a secret was added or removed: told to the group's members it affects. */
    public void groupAccess(StoreWriter w, ChangeKind kind, String group, String secret) {
        w.appendChange(new ChangeRow(0, clock.millis(), kind.wireName(), secret, null, null, group, null));
    }

    /** A client joined or left a group: told to that client, once per secret the group is granted. */
    public void clientAccess(StoreWriter w, ChangeKind kind, String client, Collection<String> secrets) {
        long now = clock.millis();
        for (String secret : secrets) {
            w.appendChange(new ChangeRow(0, now, kind.wireName(), secret, null, null, null, client));
        }
    }
}
