-- Tresor schema v3: audit checkpoints. See docs/security-model.md ("Audit checkpoints").

-- One row per audit log (by file name): the newest checkpoint record of that log, as a line MACed
-- under the log's own chain key (so a row cannot be forged or moved to another log without the
-- KEK). At start-up the server verifies the log only from this record on, and refuses to start when
-- the log ends before it (cut or put back from an older copy), or when a later checkpoint in the log
-- recorded store epochs the store no longer reaches (the database was put back from an older copy).
CREATE TABLE audit_checkpoints (
    log     TEXT NOT NULL PRIMARY KEY,
    record  TEXT NOT NULL
);
