package dev.tresor.integrity;

import dev.tresor.crypto.Canonical;
import dev.tresor.crypto.RowAuthenticator;
import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.AuditRecordRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.JoinTokenRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.Rows.SecretBucketRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.StoreHeadRow;
import dev.tresor.crypto.Keyring;
import dev.tresor.store.Rows.VersionRow;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The one place that says which columns of each row are authenticated, and how. Every column
 * that can change what a caller may do or see is covered; the domain label of each encoding
 * keeps a MAC of one row kind from verifying as another.
 */
public final class RowSeals {

    private final RowAuthenticator auth;

    public RowSeals(RowAuthenticator auth) {
        this.auth = auth;
    }

    // ------------------------------------------------------------------ ACL head

    public AclHeadRow seal(long epoch, String registry) {
        return new AclHeadRow(epoch, registry, auth.mac(head(epoch, registry)));
    }

    public boolean valid(AclHeadRow r) {
        return auth.verify(head(r.epoch(), r.registry()), r.mac());
    }

    private static Canonical head(long epoch, String registry) {
        return Canonical.of("tresor/row/acl_head/v1").number(epoch).string(registry);
    }

    // ------------------------------------------------------------------ audit record copies

    /** Every column: the line (whose own chain MAC only its node can check) and the columns the queries filter on. */
    public AuditRecordRow seal(AuditRecordRow r) {
        return new AuditRecordRow(r.node(), r.seq(), r.atMillis(), r.client(), r.secret(), r.line(), auth.mac(auditRecord(r)));
    }

    public boolean valid(AuditRecordRow r) {
        return r.mac() != null && auth.verify(auditRecord(r), r.mac());
    }

    private static Canonical auditRecord(AuditRecordRow r) {
        return Canonical.of("tresor/row/audit_records/v1").string(r.node()).number(r.seq()).number(r.atMillis())
                .string(r.client()).string(r.secret()).string(r.line());
    }

    // ------------------------------------------------------------------ join tokens

    /** A join token row covers every column: a forged row, or one whose uses or expiry were raised, is refused. */
    public JoinTokenRow seal(JoinTokenRow r) {
        return new JoinTokenRow(r.id(), r.secretHash(), r.client(), r.identity(), r.usesLeft(), r.expiresAt(),
                r.createdAt(), r.createdBy(), auth.mac(joinToken(r)));
    }

    public boolean valid(JoinTokenRow r) {
        return r.mac() != null && auth.verify(joinToken(r), r.mac());
    }

    private static Canonical joinToken(JoinTokenRow r) {
        return Canonical.of("tresor/row/join_tokens/v1").string(r.id()).bytes(r.secretHash()).string(r.client())
                .string(r.identity()).number(r.usesLeft()).number(r.expiresAt()).number(r.createdAt())
                .string(r.createdBy());
    }

    // ------------------------------------------------------------------ clients

    public ClientRow seal(ClientRow r) {
        return new ClientRow(r.name(), r.identity(), r.admin(), r.enabled(), r.groupsDigest(), r.createdAt(),
                r.createdBy(), r.certsIssued(), auth.mac(client(r)));
    }

    /**
     * A client row sealed today covers its issuance count (v2). A row sealed before that column
     * existed (v1) still verifies while the count is 0; the domain labels differ, so a v2 row
     * whose count is reset to 0 verifies as neither.
     */
    public boolean valid(ClientRow r) {
        return auth.verify(client(r), r.mac()) || r.certsIssued() == 0 && auth.verify(clientV1(r), r.mac());
    }

    private static Canonical client(ClientRow r) {
        return Canonical.of("tresor/row/clients/v2").string(r.name()).string(r.identity()).bool(r.admin())
                .bool(r.enabled()).bytes(r.groupsDigest()).number(r.createdAt()).string(r.createdBy())
                .number(r.certsIssued());
    }

    private static Canonical clientV1(ClientRow r) {
        return Canonical.of("tresor/row/clients/v1").string(r.name()).string(r.identity()).bool(r.admin())
                .bool(r.enabled()).bytes(r.groupsDigest()).number(r.createdAt()).string(r.createdBy());
    }

    /** Keyed digest of a client's memberships (group → role), stored in the client row. */
    public byte[] membershipDigest(String client, Map<String, String> groupRoles) {
        return auth.digest(Canonical.of("tresor/set/memberships/v1").string(client)
                .stringMap(new TreeMap<>(groupRoles)));
    }

    // ------------------------------------------------------------------ groups and memberships

    public GroupRow seal(GroupRow r) {
        return new GroupRow(r.name(), r.description(), r.createdAt(), r.createdBy(), auth.mac(group(r)));
    }

    public boolean valid(GroupRow r) {
        return auth.verify(group(r), r.mac());
    }

    private static Canonical group(GroupRow r) {
        return Canonical.of("tresor/row/groups/v1").string(r.name()).string(r.description()).number(r.createdAt())
                .string(r.createdBy());
    }

    public MembershipRow seal(MembershipRow r) {
        return new MembershipRow(r.group(), r.client(), r.role(), auth.mac(membership(r)));
    }

    public boolean valid(MembershipRow r) {
        return auth.verify(membership(r), r.mac());
    }

    private static Canonical membership(MembershipRow r) {
        return Canonical.of("tresor/row/memberships/v1").string(r.group()).string(r.client()).string(r.role());
    }

    // ------------------------------------------------------------------ secrets

    public SecretRow seal(SecretRow r) {
        return new SecretRow(r.name(), r.groups(), r.labels(), r.latestVersion(), r.description(), r.createdAt(),
                r.createdBy(), r.updatedAt(), r.deletedAt(), r.destroyed(), auth.mac(secret(r)));
    }

    public boolean valid(SecretRow r) {
        return auth.verify(secret(r), r.mac());
    }

    private static Canonical secret(SecretRow r) {
        SortedMap<String, String> labels = new TreeMap<>();
        r.labels().forEach((k, v) -> labels.put(k, Integer.toString(v)));
        return Canonical.of("tresor/row/secrets/v1").string(r.name()).strings(r.groups()).stringMap(labels)
                .number(r.latestVersion()).string(r.description()).number(r.createdAt()).string(r.createdBy())
                .number(r.updatedAt()).number(r.deletedAt()).bool(r.destroyed());
    }

    public GrantRow seal(GrantRow r) {
        return new GrantRow(r.group(), r.secret(), auth.mac(grant(r)));
    }

    public boolean valid(GrantRow r) {
        return auth.verify(grant(r), r.mac());
    }

    private static Canonical grant(GrantRow r) {
        return Canonical.of("tresor/row/grants/v1").string(r.group()).string(r.secret());
    }

    // ------------------------------------------------------------------ versions

    /**
     * Seals a version's metadata. The wrapped key and ciphertext are authenticated by the AEAD
     * (with the secret name and version bound in); the MAC additionally covers whether they are
     * present, so a destroyed version cannot be silently "un-destroyed" and vice versa.
     */
    public VersionRow seal(VersionRow r) {
        return new VersionRow(r.secret(), r.version(), r.createdAt(), r.createdBy(), r.expiresAt(), r.metadata(),
                r.kekId(), r.wrappedKey(), r.ciphertext(), auth.mac(version(r)));
    }

    public boolean valid(VersionRow r) {
        return auth.verify(version(r), r.mac());
    }

    private static Canonical version(VersionRow r) {
        return Canonical.of("tresor/row/secret_versions/v1").string(r.secret()).number(r.version())
                .number(r.createdAt()).string(r.createdBy()).number(r.expiresAt()).string(r.metadata())
                .bool(r.wrappedKey() == null).bool(r.ciphertext() == null);
    }

    // ------------------------------------------------------------------ secret ledger

    public SecretBucketRow seal(SecretBucketRow r) {
        return new SecretBucketRow(r.bucket(), r.epoch(), r.entries(), auth.mac(bucket(r.bucket(), r.epoch(), r.entries())));
    }

    public boolean valid(SecretBucketRow r) {
        return auth.verify(bucket(r.bucket(), r.epoch(), r.entries()), r.mac());
    }

    private static Canonical bucket(int bucket, long epoch, String entries) {
        return Canonical.of("tresor/row/secret_buckets/v1").number(bucket).number(epoch).string(entries);
    }

    public SecretHeadRow seal(SecretHeadRow r) {
        return new SecretHeadRow(r.epoch(), r.bucketSum(), auth.mac(secretHead(r.epoch(), r.bucketSum())));
    }

    public boolean valid(SecretHeadRow r) {
        return auth.verify(secretHead(r.epoch(), r.bucketSum()), r.mac());
    }

    private static Canonical secretHead(long epoch, byte[] bucketSum) {
        return Canonical.of("tresor/row/secret_head/v1").number(epoch).bytes(bucketSum);
    }

    /** The keyed PRF value of one bucket state, summed into the ledger head. */
    public dev.tresor.store.Rows.SecretJournalRow seal(dev.tresor.store.Rows.SecretJournalRow r) {
        return new dev.tresor.store.Rows.SecretJournalRow(r.epoch(), r.bucket(), auth.mac(journal(r.epoch(), r.bucket())));
    }

    public boolean valid(dev.tresor.store.Rows.SecretJournalRow r) {
        return r.mac() != null && auth.verify(journal(r.epoch(), r.bucket()), r.mac());
    }

    private static Canonical journal(long epoch, int bucket) {
        return Canonical.of("tresor/row/secret_journal/v1").number(epoch).number(bucket);
    }

    public byte[] bucketPrf(int bucket, long epoch, byte[] bucketMac) {
        return auth.digest(Canonical.of("tresor/prf/secret_bucket/v1").number(bucket).number(epoch).bytes(bucketMac));
    }

    // ------------------------------------------------------------------ store head

    /**
     * Seals the store head over both heads and the keyring: its version and the public
     * {@link Keyring#fingerprint() fingerprint} of its keys, so that a keyring row put back from an
     * older copy no longer matches the store head.
     */
    public StoreHeadRow seal(AclHeadRow acl, SecretHeadRow secret, Keyring keyring) {
        return new StoreHeadRow(acl.epoch(), acl.mac(), secret.epoch(), secret.mac(),
                auth.mac(storeHead(acl.epoch(), acl.mac(), secret.epoch(), secret.mac(), keyring.version(),
                        keyring.fingerprint())), keyring.version());
    }

    /** True if the head is sealed over its heads and exactly {@code keyring}'s version and keys. */
    public boolean valid(StoreHeadRow r, Keyring keyring) {
        return r.sealed() && r.keyringVersion() != null && r.keyringVersion() == keyring.version()
                && auth.verify(storeHead(r.aclEpoch(), r.aclMac(), r.secretEpoch(), r.secretMac(), keyring.version(),
                keyring.fingerprint()), r.mac());
    }

    /**
     * True if the head verifies as sealed over {@code version} with {@code keyring}'s keys: another
     * node changed the keyring's version without changing its keys (a KEK re-wrap).
     */
    public boolean validWithKeysOf(StoreHeadRow r, Keyring keyring, long version) {
        return r.sealed() && r.keyringVersion() != null && r.keyringVersion() == version
                && auth.verify(storeHead(r.aclEpoch(), r.aclMac(), r.secretEpoch(), r.secretMac(), version,
                keyring.fingerprint()), r.mac());
    }

    /** A head sealed before schema 7 (no keyring bound; {@code keyringVersion} null), in that format. */
    public boolean validLegacy(StoreHeadRow r) {
        return r.sealed() && r.keyringVersion() == null
                && auth.verify(legacyStoreHead(r.aclEpoch(), r.aclMac(), r.secretEpoch(), r.secretMac()), r.mac());
    }

    private static Canonical storeHead(long aclEpoch, byte[] aclMac, long secretEpoch, byte[] secretMac,
                                       long keyringVersion, byte[] keyringFingerprint) {
        return Canonical.of("tresor/row/store_head/v2").number(aclEpoch).bytes(aclMac).number(secretEpoch)
                .bytes(secretMac).number(keyringVersion).bytes(keyringFingerprint);
    }

    private static Canonical legacyStoreHead(long aclEpoch, byte[] aclMac, long secretEpoch, byte[] secretMac) {
        return Canonical.of("tresor/row/store_head/v1").number(aclEpoch).bytes(aclMac).number(secretEpoch).bytes(secretMac);
    }

    // ------------------------------------------------------------------ envelope contexts

    /** Associated data of a version's wrapped data key: secret, version and the groups allowed to read it. */
    public static byte[] keyContext(String secret, int version, java.util.List<String> sortedGroups) {
        return Canonical.of("tresor/envelope/data-key/v1").string(secret).number(version).strings(sortedGroups).toBytes();
    }

    /** Associated data of a version's ciphertext: secret and version. */
    public static byte[] valueContext(String secret, int version) {
        return Canonical.of("tresor/envelope/value/v1").string(secret).number(version).toBytes();
    }
}
