-- Tresor schema v12: the secret ledger's journal (issue 17, the cross-node replay limit).
--
-- Every ledger epoch changes exactly one bucket; this table says which, one sealed row per epoch
-- (epoch, bucket, MAC under the row MAC key). A node that sees the ledger head move past the last
-- epoch it followed reads the rows in between and raises its high-water mark of each bucket named,
-- so a bucket put back from before a change this node never read is refused by this node too.
-- Rows older than a retention window are pruned by the writers; a node that fell behind that
-- window, or finds a row missing, re-reads every bucket against the head's sum instead.
-- Existing stores start with an empty journal: each node follows from the head it opens at.
CREATE TABLE secret_journal (
    epoch       BIGINT  NOT NULL PRIMARY KEY,
    bucket      INTEGER NOT NULL,
    mac         BYTEA   NOT NULL
);
