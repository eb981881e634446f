package dev.tresor.store;

import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ChangeRow;
import dev.tresor.store.Rows.IssuedCertRow;
import dev.tresor.store.Rows.JoinTokenRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.Rows.SecretBucketRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.store.Rows.StoreHeadRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import java.util.Optional;

/**
 * Writes inside one transaction. Lock order, to stay deadlock-free on PostgreSQL: the ACL head
 * first, then the secret ledger head, then secret rows, then ledger buckets, the store head last. Conflicting inserts raise {@link StoreConflictException}.
 */
public interface StoreWriter extends StoreReader {

    /**
     * Runs {@code action} once this transaction has committed, in the writing thread; never if it
     * rolls back. For what a node may only believe once the write is durable (its ledger marks).
     */
    void afterCommit(Runnable action);

    void insertKey(KeyRow row);

    /** Replaces an internal key's wrapping (same purpose); false if no such row exists. */
    boolean updateKey(KeyRow row);

    /** Creates the keyring row; {@link StoreConflictException} if another node created it first. */
    void insertKeyring(Rows.KeyringRow row);

    /**
     * Replaces the keyring row only if it still has {@code expectedVersion} (compare-and-set, so two
     * nodes changing the keyring at once cannot both win); false if it did not.
     */
    boolean replaceKeyring(Rows.KeyringRow row, long expectedVersion);

    void insertKeyringMigration(Rows.KeyringMigrationRow row);

    void insertIdempotencyKey(Rows.IdempotencyRow row);

    /** Stores copies of audit records; one already stored (same node and seq) is left as it is. */
    void copyAuditRecords(java.util.List<Rows.AuditRecordRow> rows);

    /**
     * Keeps {@code seq} as the point up to which node {@code node}'s copies were found contiguous
     * ({@link StoreReader#contiguousAuditSeq}); a mark never goes back.
     */
    void keepAuditCopyMark(String node, long seq);

    /** Deletes copied audit records older than {@code millis}; returns how many. */
    int pruneAuditRecords(long millis);

    /** Forgets keys written before {@code millis}. */
    int deleteIdempotencyKeysBefore(long millis);

    /** Locks the ACL head row for the rest of the transaction and returns it. */
    Optional<AclHeadRow> lockAclHead();

    void putAclHead(AclHeadRow row);

    /**
     * Creates the ACL and secret ledger heads if they do not exist yet (no-op otherwise), so that
     * every later writer has a row to lock: two first writers on two nodes then queue instead of
     * both believing they write the first head.
     */
    void createHeadsIfMissing(AclHeadRow aclHead, SecretHeadRow secretHead, StoreHeadRow storeHead);

    void insertClient(ClientRow row);

    void updateClient(ClientRow row);

    void deleteClient(String name);

    void insertGroup(GroupRow row);

    void deleteGroup(String name);

    void putMembership(MembershipRow row);

    void deleteMembership(String group, String client);

    /** Locks a secret row for the rest of the transaction and returns it. */
    Optional<SecretRow> lockSecret(String name);

    void insertSecret(SecretRow row);

    void updateSecret(SecretRow row);

    void putGrant(GrantRow row);

    void deleteGrant(String group, String secret);

    void insertVersion(VersionRow row);

    /** Replaces the mutable parts of a version: its wrapped key (re-wrap), or both key and ciphertext (destroy). */
    void updateVersion(VersionRow row);

    /** Locks the secret ledger head for the rest of the transaction and returns it. */
    Optional<SecretHeadRow> lockSecretHead();

    void putSecretHead(SecretHeadRow row);

    void putSecretBucket(SecretBucketRow row);

    /** Writes the journal row of its epoch, replacing any row there. */
    void putSecretJournal(Rows.SecretJournalRow row);

    /** Deletes the journal rows with {@code epoch <= upTo}. */
    void pruneSecretJournal(long upTo);

    /** Locks the store head for the rest of the transaction and returns it. Always the last head locked. */
    Optional<StoreHeadRow> lockStoreHead();

    void putStoreHead(StoreHeadRow row);

    /** Saves (replaces) the sealed checkpoint record of the audit log named {@code log}. */
    void putAuditCheckpoint(String log, String record);

    void insertJoinToken(JoinTokenRow row);

    void updateJoinToken(JoinTokenRow row);

    void deleteJoinToken(String id);

    /** Deletes tokens that expired before {@code nowMillis}; returns how many. */
    int deleteExpiredJoinTokens(long nowMillis);

    void insertIssuedCert(IssuedCertRow row);

    /** Marks a certificate revoked (a no-op if it already is); returns false if the serial is unknown. */
    boolean revokeCert(String serial, long atMillis, String by);

    /**
     * Records a change of this transaction for the feed. Sequences are allocated when the
     * transaction commits, under the store head lock, so that sequence order is commit order.
     */
    void appendChange(ChangeRow row);

    /** Deletes changes recorded before {@code beforeMillis}, always keeping the newest; returns how many. */
    int pruneChanges(long beforeMillis);
}
