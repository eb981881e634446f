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
-- removes the oldest first: nothing stays below those, and the mark is left alone. The trigger runs
-- after the statement's rows are gone (PostgreSQL fires AFTER ROW triggers at its end).
CREATE OR REPLACE FUNCTION audit_copy_mark_lower() RETURNS trigger AS $$
BEGIN
    UPDATE audit_copy_marks m SET seq = OLD.seq - 1
     WHERE m.node = OLD.node AND m.seq >= OLD.seq
       AND EXISTS (SELECT 1 FROM audit_records a WHERE a.node = OLD.node AND a.seq < OLD.seq);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_records_lower_mark AFTER DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_copy_mark_lower();
