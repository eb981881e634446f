package dev.tresor.store;

import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ChangeBounds;
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
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Reads of the store. Implementations return rows as stored; they never interpret MACs. */
public interface StoreReader {

    Optional<KeyRow> key(String purpose);

    Optional<Rows.KeyringRow> keyring();

    /** The copied audit records matching {@code query}, newest first (by time, then node and seq). */
    List<Rows.AuditRecordRow> auditRecords(Rows.AuditRecordQuery query);

    /**
     * The seq up to which node {@code node}'s copied records have no gap: the first copied seq
     * whose successor is missing (0 if none is copied). Records below the oldest copy kept are not
     * looked for (they were pruned, or are older than the copy). The search starts at the node's
     * kept mark ({@link StoreWriter#keepAuditCopyMark}) while that record is still copied, so it
     * costs the records copied since, not all of them.
     */
    long contiguousAuditSeq(String node);

    /** The write an {@code Idempotency-Key} already made for {@code secret}, if any. */
    Optional<Rows.IdempotencyRow> idempotencyKey(String secret, String key);

    Optional<Rows.KeyringMigrationRow> keyringMigration(String name);

    /**
     * The distinct first {@code length} bytes of every stored wrapped data key: with Tink's output
     * prefix, the ids of the keys that wrapped them (public). Scans the versions table.
     */
    List<byte[]> wrappedKeyPrefixes(int length);

    /** How many stored data keys start with each distinct first {@code length} bytes (their wrapping key's prefix). */
    List<Rows.KeyPrefixCount> wrappedKeyPrefixCounts(int length);

    Optional<AclHeadRow> aclHead();

    List<ClientRow> clients();

    List<GroupRow> groups();

    List<MembershipRow> memberships();

    Optional<ClientRow> client(String name);

    Optional<ClientRow> clientByIdentity(String identity);

    List<MembershipRow> membershipsOfClient(String client);

    List<MembershipRow> membershipsOfGroup(String group);

    /** True if any client row exists (distinguishes a fresh store from a deleted ACL head). */
    boolean anyClient();

    Optional<SecretRow> secret(String name);

    /**
     * Names of secrets after {@code after} (null: from the first), in name order, at most
     * {@code limit}, that have a version whose wrapped data key does not start with
     * {@code prefix}: what a keyring rotation still has to re-wrap.
     */
    List<String> secretsWithDataKeysNotUnder(byte[] prefix, String after, int limit);

    /** Secrets ordered by name, starting after {@code after} (exclusive, may be null), names starting with {@code prefix}. */
    List<SecretRow> secrets(String prefix, String after, int limit);

    /** Secrets with a grant row for any of {@code groups}, ordered by name, without duplicates. */
    List<SecretRow> secretsGrantedTo(Collection<String> groups, String prefix, String after, int limit);

    List<GrantRow> grantsOfGroup(String group);

    /**
     * Every secret row whose stored group list names {@code group}, whatever the grant index says
     * (the index is a convenience; the sealed list decides access). Scans the table.
     */
    List<SecretRow> secretsNamingGroup(String group);

    List<GrantRow> grantsOfSecret(String secret);

    Optional<VersionRow> version(String secret, int version);

    /** All versions of a secret, oldest first. */
    List<VersionRow> versions(String secret);

    Optional<SecretHeadRow> secretHead();

    Optional<StoreHeadRow> storeHead();

    /** The sealed checkpoint record of the audit log named {@code log} (its file name), if one was saved. */
    Optional<String> auditCheckpoint(String log);

    Optional<SecretBucketRow> secretBucket(int bucket);

    /** Every bucket's number, epoch and MAC (entries left null): enough to check the head's sum. */
    List<SecretBucketRow> secretBucketSeals();

    /** The journal rows with {@code after < epoch <= upTo}, in epoch order (pruned ones are gone). */
    List<Rows.SecretJournalRow> secretJournal(long after, long upTo);

    Optional<JoinTokenRow> joinToken(String id);

    Optional<IssuedCertRow> issuedCert(String serial);

    /** Unexpired certificates issued for {@code identity} (not after {@code nowMillis}), revoked or not. */
    List<IssuedCertRow> issuedCertsOf(String identity, long nowMillis);

    /**
     * Certificates issued, newest first, at most {@code limit}: of {@code client} only (null: all),
     * and only those not expired at {@code nowMillis} unless {@code includeExpired}.
     */
    List<IssuedCertRow> issuedCerts(String client, long nowMillis, boolean includeExpired, int limit);

    /** Serials of revoked certificates that have not expired at {@code nowMillis}: what the CRL and the API refuse. */
    List<IssuedCertRow> revokedCerts(long nowMillis);

    /**
     * Of the certificates issued and neither revoked nor expired at {@code nowMillis}: how many,
     * how many expire by {@code soonMillis}, and the earliest expiry (for metrics).
     */
    IssuedCertExpiry issuedCertExpiry(long nowMillis, long soonMillis);

    /** Changes with a sequence above {@code afterSeq}, lowest first, at most {@code limit}. */
    List<ChangeRow> changesAfter(long afterSeq, int limit);

    ChangeBounds changeBounds();

    /** Versions whose expiry lies in ({@code fromMillis}, {@code toMillis}], earliest first, at most {@code limit}. */
    List<VersionRow> versionsExpiring(long fromMillis, long toMillis, int limit);

    /** True if an {@code expired} change was recorded for that version. */
    boolean expiryRecorded(String secret, int version);

    /** {@code earliestNotAfter} is 0 when {@code valid} is 0. */
    record IssuedCertExpiry(long valid, long expiringSoon, long earliestNotAfter) {}
}
