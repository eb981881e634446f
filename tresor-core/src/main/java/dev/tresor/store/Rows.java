package dev.tresor.store;

import java.util.List;
import java.util.SortedMap;

/**
 * The rows Tresor keeps, exactly as stored. Times are epoch milliseconds. Every row that decides
 * access carries a {@code mac} computed by the service layer; the store neither computes nor
 * checks MACs, so the store can be swapped (SQLite, PostgreSQL) without touching security logic.
 */
public final class Rows {

    private Rows() {}

    /** A key Tresor uses internally (e.g. the row MAC key), wrapped by the keyring (by the KEK before schema 6). */
    public record KeyRow(String purpose, String kekId, byte[] wrapped, long createdAt) {}

    /**
     * The keyring: a Tink keyset of AES-256-GCM keys wrapped by the provider's KEK, with the store's
     * random id and the keyring's version bound into the wrapping as associated data.
     */
    public record KeyringRow(String storeId, long version, String kekId, byte[] wrapped, long updatedAt) {}

    /** A finished one-time conversion of the key hierarchy (e.g. KEK-wrapped data keys moved under the keyring). */
    public record KeyringMigrationRow(String name, String fromKekId, long keyringVersion, long rewrapped,
                                      long unreadable, long finishedAt) {}

    /**
     * The head of the access-control state: a counter bumped by every ACL change and a registry
     * naming every client row's MAC, so replaying, inserting or deleting a whole client row is
     * noticed even though each row on its own would verify.
     */
    public record AclHeadRow(long epoch, String registry, byte[] mac) {}

    /**
     * A client. {@code certsIssued} counts the certificates Tresor's CA issued for it: the first is
     * part of creating the client, every later one an explicit re-issue.
     */
    public record ClientRow(String name, String identity, boolean admin, boolean enabled, byte[] groupsDigest,
                            long createdAt, String createdBy, long certsIssued, byte[] mac) {}

    public record GroupRow(String name, String description, long createdAt, String createdBy, byte[] mac) {}

    public record MembershipRow(String group, String client, String role, byte[] mac) {}

    /**
     * A secret. {@code groups} (sorted) is the authoritative list of groups that may read it and is
     * bound into every version's wrapped data key; {@code labels} maps label to version.
     */
    public record SecretRow(String name, List<String> groups, SortedMap<String, Integer> labels, int latestVersion,
                            String description, long createdAt, String createdBy, long updatedAt, Long deletedAt,
                            boolean destroyed, byte[] mac) {}

    /** An index row (group → secret) for listing; the secret row's group list is authoritative. */
    public record GrantRow(String group, String secret, byte[] mac) {}

    /** An immutable version; {@code wrappedKey} and {@code ciphertext} are null once destroyed. */
    public record VersionRow(String secret, int version, long createdAt, String createdBy, Long expiresAt,
                             String metadata, String kekId, byte[] wrappedKey, byte[] ciphertext, byte[] mac) {}

    /**
     * One bucket of the secret ledger: every secret whose name hashes to {@code bucket}, with the
     * MAC of its current row. A secret row counts only if its bucket lists exactly its MAC, so an
     * older copy of a secret's rows (put back to undo a revoke, a destroy or a new version) is
     * refused even though each replayed row verifies on its own. {@code epoch} is the ledger
     * epoch of the bucket's last change.
     */
    public record SecretBucketRow(int bucket, long epoch, String entries, byte[] mac) {}

    /**
     * The head of the secret ledger: a counter bumped by every secret change and a keyed
     * multiset sum over every bucket's (bucket, epoch, MAC), so putting back an older bucket is
     * noticed at start-up even though the bucket verifies on its own.
     */
    public record SecretHeadRow(long epoch, byte[] bucketSum, byte[] mac) {}

    /**
     * One entry of the secret ledger's journal: ledger epoch {@code epoch} changed bucket
     * {@code bucket}. Epochs are contiguous (each is the head's epoch plus one, under the head
     * lock), so a node that saw the head at epoch A and now sees B learns from the rows in
     * between which buckets moved, without having read them.
     */
    public record SecretJournalRow(long epoch, int bucket, byte[] mac) {}

    /**
     * The store head: binds the ACL head and the secret ledger head (epoch and MAC of each) under
     * one MAC, so that only a rollback of both together, that is of the whole store, verifies. An
     * empty {@code mac} marks the unsealed head a schema migration wrote for an existing store.
     * Since schema 7 the MAC also binds the keyring ({@code keyringVersion} and the ids of its keys);
     * {@code keyringVersion} is null in a head sealed before that, in the older format.
     */
    public record StoreHeadRow(long aclEpoch, byte[] aclMac, long secretEpoch, byte[] secretMac, byte[] mac,
                               Long keyringVersion) {

        public boolean sealed() {
            return mac != null && mac.length > 0;
        }
    }

    /**
     * A join token: {@code id} is its public half (finds the row), {@code secretHash} the SHA-256 of
     * its secret half. Bound to a registered client and that client's identity at creation.
     */
    public record JoinTokenRow(String id, byte[] secretHash, String client, String identity, long usesLeft,
                               long expiresAt, long createdAt, String createdBy, byte[] mac) {}

    /** A certificate the built-in CA issued; {@code revokedAt}/{@code revokedBy} null while it is not revoked. */
    public record IssuedCertRow(String serial, String client, String identity, String issuer, long notAfter,
                                long issuedAt, Long revokedAt, String revokedBy) {}

    /**
     * One entry of the change feed: what changed about a secret (never a value). {@code seq} is 0
     * until the store allocates it at commit; {@code scopeGroup}/{@code scopeClient} narrow who is
     * told about a grant change, both null meaning whoever may read the secret.
     */
    public record ChangeRow(long seq, long at, String kind, String secret, Integer version, String label,
                            String scopeGroup, String scopeClient) {

        public ChangeRow withSeq(long allocated) {
            return new ChangeRow(allocated, at, kind, secret, version, label, scopeGroup, scopeClient);
        }
    }

    /** The lowest and highest sequence the change table holds; both 0 when it is empty. */
    public record ChangeBounds(long oldest, long newest) {}

    /** A prefix of stored data keys (the Tink prefix naming the keyring key that wrapped them) and how many carry it. */
    public record KeyPrefixCount(byte[] prefix, long count) {}

    /** An {@code Idempotency-Key} of a PUT: the version it created and the labels it was answered with. */
    public record IdempotencyRow(String secret, String key, byte[] requestHash, int version, String labels, long createdAt) {}

    /**
     * A copy of one audit record of node {@code node}'s chain: its seq there, time, who, what, the
     * line as written, and the row MAC over all of them (the nodes share the row MAC key, so any node
     * can tell a copy edited or inserted in the database from one another node wrote).
     */
    public record AuditRecordRow(String node, long seq, long atMillis, String client, String secret, String line, byte[] mac) {}

    /** Which copied audit records to read, newest first; any null field does not filter. */
    public record AuditRecordQuery(String node, String notNode, Long sinceMillis, Long untilMillis, Long afterSeq,
                                   Long beforeSeq, String client, String secret, int limit) {}
}
