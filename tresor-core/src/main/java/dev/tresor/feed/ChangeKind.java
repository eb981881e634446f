package dev.tresor.feed;

import java.util.Locale;

/** What a change-feed entry says happened to a secret; the wire name is the lower-case name. */
public enum ChangeKind {
    VERSION, LABEL, DELETED, RESTORED, DESTROYED, EXPIRED, GRANTED, REVOKED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind stored under {@code wire}, or null for one this version does not know (skipped, not fatal). */
    static ChangeKind fromWire(String wire) {
        for (ChangeKind k : values()) {
            if (k.wireName().equals(wire)) {
                return k;
            }
        }
        return null;
    }
}
