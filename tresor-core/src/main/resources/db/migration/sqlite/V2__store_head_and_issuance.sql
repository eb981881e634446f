-- Tresor schema v2: the store head and per-client certificate issuance. See docs/security-model.md.

-- The store head binds the ACL head and the secret ledger head to each other: one MAC over both
-- epochs and both head MACs, rewritten by every transaction that moves either head. Putting back
-- only the access-control tables, or only the secret tables, from an older copy no longer adds up.
CREATE TABLE store_head (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    acl_epoch     INTEGER  NOT NULL,
    acl_mac       BLOB NOT NULL,
    secret_epoch  INTEGER  NOT NULL,
    secret_mac    BLOB NOT NULL,
    mac           BLOB NOT NULL
);

-- A store that already held data when this migration ran gets an unsealed store head (empty MAC),
-- sealed over its current heads at the next start (recorded in the audit log). A fresh store gets
-- its sealed store head together with the other heads.
INSERT INTO store_head (id, acl_epoch, acl_mac, secret_epoch, secret_mac, mac)
    SELECT 1, a.epoch, a.mac, s.epoch, s.mac, X''
    FROM acl_head a, secret_head s WHERE a.id = 1 AND s.id = 1;

-- How many certificates Tresor's CA has issued for the client (covered by the row MAC): the first
-- signing is part of creating a client, every later one is an explicit, audited re-issue.
ALTER TABLE clients ADD COLUMN certs_issued INTEGER NOT NULL DEFAULT 0;
