-- Tresor schema v9: Idempotency-Key on PUT /v1/secrets/{name}.
--
-- A client that retries a write after a lost answer (a connection cut, a node that died, a
-- failover to another node) sends the same key: the version it created is answered again instead
-- of a second version being written. Kept 24 h. request_hash is the SHA-256 of the request body,
-- so the same key with another body is refused (422). Written in the transaction that writes the
-- version, so a key exists exactly when its version does.
CREATE TABLE idempotency_keys (
    secret_name  TEXT    NOT NULL,
    idem_key     TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,
    version      INTEGER NOT NULL,
    labels       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (secret_name, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
