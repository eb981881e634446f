-- Tresor schema v1 (SQLite). Every access-deciding row carries a MAC computed under a key that
-- only the KEK can unwrap; see docs/security-model.md. Times are epoch milliseconds.

CREATE TABLE crypto_keys (
    purpose     TEXT    NOT NULL PRIMARY KEY,
    kek_id      TEXT    NOT NULL,
    wrapped     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE acl_head (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    epoch       INTEGER NOT NULL,
    registry    TEXT    NOT NULL,
    mac         BLOB    NOT NULL
);

CREATE TABLE clients (
    name          TEXT    NOT NULL PRIMARY KEY,
    identity      TEXT    NOT NULL UNIQUE,
    admin         INTEGER NOT NULL,
    enabled       INTEGER NOT NULL,
    groups_digest BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT,
    mac           BLOB    NOT NULL
);

CREATE TABLE tresor_groups (
    name          TEXT    NOT NULL PRIMARY KEY,
    description   TEXT,
    created_at    INTEGER NOT NULL,
    created_by    TEXT,
    mac           BLOB    NOT NULL
);

CREATE TABLE memberships (
    group_name    TEXT    NOT NULL,
    client_name   TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    mac           BLOB    NOT NULL,
    PRIMARY KEY (group_name, client_name)
);
CREATE INDEX memberships_by_client ON memberships (client_name);

CREATE TABLE secrets (
    name            TEXT    NOT NULL PRIMARY KEY,
    groups          TEXT    NOT NULL,
    labels          TEXT    NOT NULL,
    latest_version  INTEGER NOT NULL,
    description     TEXT,
    created_at      INTEGER NOT NULL,
    created_by      TEXT,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    destroyed       INTEGER NOT NULL,
    mac             BLOB    NOT NULL
);

CREATE TABLE grants (
    group_name    TEXT    NOT NULL,
    secret_name   TEXT    NOT NULL,
    mac           BLOB    NOT NULL,
    PRIMARY KEY (group_name, secret_name)
);
CREATE INDEX grants_by_secret ON grants (secret_name);

CREATE TABLE secret_versions (
    secret_name   TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT,
    expires_at    INTEGER,
    metadata      TEXT    NOT NULL,
    kek_id        TEXT,
    wrapped_key   BLOB,
    ciphertext    BLOB,
    mac           BLOB    NOT NULL,
    PRIMARY KEY (secret_name, version)
);

-- The secret ledger: each bucket lists the MAC of the current row of every secret hashing to it;
-- the head sums every bucket under a keyed PRF. See dev.tresor.integrity.SecretLedger.
CREATE TABLE secret_head (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    epoch       INTEGER  NOT NULL,
    bucket_sum  BLOB   NOT NULL,
    mac         BLOB   NOT NULL
);

CREATE TABLE secret_buckets (
    bucket      INTEGER NOT NULL PRIMARY KEY,
    epoch       INTEGER  NOT NULL,
    entries     TEXT    NOT NULL,
    mac         BLOB   NOT NULL
);
