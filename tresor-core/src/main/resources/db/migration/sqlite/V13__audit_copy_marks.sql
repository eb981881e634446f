-- Tresor schema v13: each node's kept high-water mark of its copied audit records (issue 17).
--
-- A node re-copies its records from its own log after the last seq up to which audit_records holds
-- all of them (at start, and after a copy was dropped). Finding that seq by looking at every copied
-- record costs a probe per record: at 30 days of a busy node, millions. The mark row says how far
-- the node has already found its copies contiguous, so the next look walks the primary key
-- (node, seq) only from there: cost in proportion to the records copied since. A mark whose own
-- record was pruned is ignored (the look starts at the oldest copy kept).
-- (V12 is left to another change made at the same time.)
CREATE TABLE audit_copy_marks (
    node TEXT   NOT NULL PRIMARY KEY,
    seq  BIGINT NOT NULL
);

-- A copy deleted above a copy that stays (a hole, not the pruning of the oldest) lowers the mark to
-- just below it, so the next look finds the hole and the node copies it again from its log. Pruning
-- removes the oldest first: nothing stays below those, and the mark is left alone. (SQLite runs the
-- trigger as each row goes; a row counted as a hole that the same statement then prunes from below
-- only lowers the mark more than needed: a longer walk, never a hole missed.)
CREATE TRIGGER audit_records_lower_mark AFTER DELETE ON audit_records
BEGIN
    UPDATE audit_copy_marks SET seq = OLD.seq - 1
     WHERE node = OLD.node AND seq >= OLD.seq
       AND EXISTS (SELECT 1 FROM audit_records a WHERE a.node = OLD.node AND a.seq < OLD.seq);
END;
