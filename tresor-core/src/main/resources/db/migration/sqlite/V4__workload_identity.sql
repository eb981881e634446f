-- Tresor schema v4: workload identity (join tokens, issued certificates, revocation). See docs/security-model.md.

-- One-time join tokens. Only the SHA-256 of the token's secret half is stored; the id half finds the
-- row, the hash is compared in constant time. The row MAC (under the KEK-wrapped row key) covers
-- every column, uses_left included, so a row inserted or edited in the database is refused.
CREATE TABLE join_tokens (
    id           TEXT NOT NULL PRIMARY KEY,
    secret_hash  BLOB NOT NULL,
    client       TEXT NOT NULL,
    identity     TEXT NOT NULL,
    uses_left    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    mac          BLOB NOT NULL
);

-- Every certificate the built-in CA issued for a client (for the CRL and revocation by serial).
-- revoked_at is set once, never cleared; the API refuses a revoked serial on the next request.
CREATE TABLE issued_certs (
    serial      TEXT NOT NULL PRIMARY KEY,
    client      TEXT NOT NULL,
    identity    TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    not_after   INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoked_by  TEXT
);
CREATE INDEX issued_certs_identity ON issued_certs (identity);
