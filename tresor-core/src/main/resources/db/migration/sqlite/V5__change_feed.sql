-- Tresor schema v5: the change feed behind GET /v1/watch. See docs/delivery.md.

-- One row per change that concerns a secret or who may read it; never a value. seq is allocated
-- under the store head lock in the transaction that makes the change (MAX + 1), so sequence order
-- is commit order on every node. scope_group / scope_client narrow who is told about a grant
-- change (members of that group / that client); both null means "whoever may read the secret".
CREATE TABLE changes (
    seq           INTEGER NOT NULL PRIMARY KEY,
    at_millis     INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    secret_name   TEXT    NOT NULL,
    version       INTEGER,
    label         TEXT,
    scope_group   TEXT,
    scope_client  TEXT
);
CREATE INDEX changes_by_time ON changes (at_millis);

-- Versions with an expiry, for the scanner that records "expired" changes as the times pass.
CREATE INDEX secret_versions_by_expiry ON secret_versions (expires_at) WHERE expires_at IS NOT NULL;
