-- Tresor schema v4: workload identity (join tokens, issued certificates, revocation). See docs/security-model.md.

-- One-time join tokens. Only the SHA-256 of the token's secret half is stored; the id half finds the
-- row, the hash is compared in constant time. The row MAC (under the KEK-wrapped row key) covers
-- every column, uses_left included, so a row inserted or edited in the database is refused.
CREATE TABLE join_tokens (
    id           TEXT NOT NULL PRIMARY KEY,
    secret_hash  BYTEA NOT NULL,
    client       TEXT NOT NULL,
    identity     TEXT NOT NULL,
    uses_left    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    mac          BYTEA NOT NULL
);

-- Every certificate the built-in CA issued for a client (for the CRL and revocation by serial).
-- revoked_at is set once, never cleared; the API refuses a revoked serial on the next request.
CREATE TABLE issued_certs (
    serial      TEXT NOT NULL PRIMARY KEY,
    client      TEXT NOT NULL,
    identity    TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    not_after   BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  TEXT
);
CREATE INDEX issued_certs_identity ON issued_certs (identity);
