-- Tresor schema v10: a copy of every node's audit records (issue 17, several nodes on one store).
--
-- Each node keeps its own hash-chained audit log on its own disk; that chain stays the evidence.
-- Each node also copies the records it has written (the exact lines, MAC included, so a copy can be
-- checked against the node's chain) into this table, in the background and in batches, so that
-- GET /v1/audit on any node can answer with the records of every node, including a node that is
-- down or gone. (node, seq) is a record's place in its node's chain; a copy written twice is one row.
-- Rows older than the copy's retention are pruned. Used with PostgreSQL only; SQLite has one node.
CREATE TABLE audit_records (
    node      TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    at_millis BIGINT NOT NULL,
    client    TEXT,
    secret    TEXT,
    line      TEXT   NOT NULL,
    PRIMARY KEY (node, seq)
);
CREATE INDEX audit_records_at ON audit_records (at_millis);
