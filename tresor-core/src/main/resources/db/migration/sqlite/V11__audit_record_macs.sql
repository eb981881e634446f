-- Tresor schema v11: every copied audit record carries the row MAC (issue 17 review).
--
-- A copy in audit_records is shown by GET /v1/audit on every other node, which cannot check the
-- line's own chain MAC (that key belongs to the node that wrote it). The row MAC key is shared by
-- all nodes of the store, so a copy edited or inserted by someone with write access to the database
-- (but not the KEK) is now refused by the reading node with an integrity alarm. Copies made before
-- this version have no MAC: they are dropped here, and each node copies its records again from its
-- own log file at its next start (within the copy's retention); a node that is gone for good keeps
-- its evidence in its archived log files only.
DELETE FROM audit_records;
ALTER TABLE audit_records ADD COLUMN mac BLOB;
