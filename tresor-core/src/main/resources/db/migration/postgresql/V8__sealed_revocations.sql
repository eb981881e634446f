-- Tresor schema v8: certificate revocations are sealed in the ACL head.
--
-- The ACL head's registry now lists every revoked certificate by serial with the time it was
-- revoked, so clearing issued_certs.revoked_at in the database revokes nothing back: the API, the
-- listing and the CRLs read the sealed list; the row's columns are a copy for listings.
--
-- Revocations recorded before v8 live only in the rows: the start that runs this migration seals
-- them into the ACL head as they stand (trust on upgrade, like the first store head).
CREATE INDEX issued_certs_revoked ON issued_certs (revoked_at);
