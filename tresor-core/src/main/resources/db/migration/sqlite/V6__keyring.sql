-- Tresor schema v6: the keyring (see docs/security-model.md and docs/keyring-plan.md).
--
-- The key provider's KEK wraps only this one row: a Tink keyset of AES-256-GCM keys. The keyring's
-- primary key wraps every data key and Tresor's own keys (crypto_keys), so reads never call the
-- provider. The wrapped keyset's associated data binds store_id and version: a keyring row cannot
-- be moved to another store, nor claim a version it was not sealed as.
CREATE TABLE keyring (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    store_id    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    kek_id      TEXT    NOT NULL,
    wrapped     BLOB    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One-time conversions of the key hierarchy, recorded in the same transaction that made them,
-- so a conversion is either wholly done and recorded or not done at all.
CREATE TABLE keyring_migrations (
    name             TEXT    NOT NULL PRIMARY KEY,
    from_kek_id      TEXT    NOT NULL,
    keyring_version  INTEGER NOT NULL,
    rewrapped        INTEGER NOT NULL,
    unreadable       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL
);
