package dev.tresor;

import dev.tresor.access.AccessControl;
import dev.tresor.access.AclEditor;
import dev.tresor.access.Caller;
import dev.tresor.cache.VerifiedRows;
import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Keyring;
import dev.tresor.keys.KeyHierarchy;
import dev.tresor.crypto.RowAuthenticator;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.integrity.SecretLedger;
import dev.tresor.integrity.StoreHeads;
import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.model.ClientView;
import dev.tresor.model.GroupView;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Names;
import dev.tresor.model.Role;
import dev.tresor.model.TresorException;
import dev.tresor.secrets.SecretService;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConflictException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The whole of Tresor's server-side logic behind one object: who may do what, on which rows.
 * Transport (HTTP, TLS) and audit live outside; they call in here with an authenticated
 * {@link Caller}. Secret operations are on {@link #secrets()}; ACL operations are here.
 */
public final class Tresor {

    static final String ROW_MAC_KEY = KeyHierarchy.ROW_MAC_KEY;
    /** The schema version whose migration wrote an unsealed store head into existing stores. */
    static final String STORE_HEAD_SCHEMA = "2";
    /** The schema version from which the store head binds the keyring. */
    static final String KEYRING_HEAD_SCHEMA = "7";
    /** The schema version from which revocations are sealed in the ACL head. */
    static final String SEALED_REVOCATIONS_SCHEMA = "8";

    private final Store store;
    private final AccessControl access;
    private final SecretService secrets;
    private final RowSeals seals;
    private final dev.tresor.keys.KeyringHolder keyrings;
    private final dev.tresor.keys.KeyringChanges keyringChanges;
    private final dev.tresor.keys.KeyringRotation keyringRotation;
    private final VerifiedRows verified;

    /** Per kind (callers, secrets, versions): a few MiB at most, and every hot secret of a large site. */
    static final int VERIFIED_ROWS_KEPT = 10_000;

    private final StoreHeads storeHeads;
    private final SecretLedger ledger;
    private final dev.tresor.identity.WorkloadIdentity identity;
    private final IntegrityMonitor monitor;
    private final Clock clock;

    private Tresor(Store store, KeyProvider keyProvider, dev.tresor.keys.KeyringHolder keyrings, RowSeals seals,
                   SecretLedger ledger, StoreHeads storeHeads, IntegrityMonitor monitor, Clock clock) {
        this.storeHeads = storeHeads;
        this.ledger = ledger;
        this.monitor = monitor;
        this.clock = clock;
        this.store = store;
        this.keyrings = keyrings;
        this.keyringChanges = new dev.tresor.keys.KeyringChanges(store, keyrings, storeHeads, monitor, clock);
        this.keyringRotation = new dev.tresor.keys.KeyringRotation(store, keyrings, keyringChanges, monitor);
        this.seals = seals;
        this.verified = new VerifiedRows(store, VERIFIED_ROWS_KEPT);
        this.access = new AccessControl(store, seals, storeHeads, monitor, clock, verified);
        this.secrets = new SecretService(store, seals, ledger, keyrings, monitor, clock, verified);
        this.identity = new dev.tresor.identity.WorkloadIdentity(store, access, seals, monitor, clock);
    }

    /** Self-renewal, join tokens and revocation of workload certificates. */
    public dev.tresor.identity.WorkloadIdentity identity() {
        return identity;
    }

    /** Opens Tresor on a migrated store; see {@link #open(Store, KeyProvider, IntegrityMonitor, Clock, KeyHierarchy.Progress)}. */
    public static Tresor open(Store store, KeyProvider keyProvider, IntegrityMonitor monitor, Clock clock) {
        return open(store, keyProvider, monitor, clock, KeyHierarchy.Progress.NONE);
    }

    /**
     * Opens Tresor on a migrated store. The KEK unwraps the keyring (creating it on a fresh store,
     * or converting a store whose keys the KEK wrapped directly; {@code progress} hears about that
     * conversion); the keyring wraps everything else. The first start creates the row MAC key
     * under the keyring; later starts unwrap it. A KEK that is not the store's refuses the start.
     */
    public static Tresor open(Store store, KeyProvider keyProvider, IntegrityMonitor monitor, Clock clock,
                              KeyHierarchy.Progress progress) {
        Keyring keyring = new KeyHierarchy(store, keyProvider, monitor, clock, progress).open();
        byte[] wrapped = store.write(w -> {
            Optional<KeyRow> existing = w.key(ROW_MAC_KEY);
            if (existing.isPresent()) {
                return existing.get().wrapped();
            }
            if (w.anyClient() || w.aclHead().isPresent() || !w.secrets(null, null, 1).isEmpty()) {
                // A fresh key would make every existing row unverifiable, and would let whoever
                // deleted the key row start over with rows they choose: refuse instead.
                monitor.violation("crypto_keys", "the row MAC key is missing while the store holds data");
                throw IntegrityViolation.refusingToOpen("crypto_keys", "the row MAC key row is missing while the "
                        + "store holds clients or secrets", "Restore the database from a backup");
            }
            byte[] fresh = InternalKey.newWrappedMacKey(keyring, ROW_MAC_KEY);
            w.insertKey(new KeyRow(ROW_MAC_KEY, keyring.keyId(), fresh, clock.millis()));
            return fresh;
        });
        RowSeals seals;
        try {
            seals = new RowSeals(new RowAuthenticator(InternalKey.unwrapMac(keyring, ROW_MAC_KEY, wrapped)));
        } catch (GeneralSecurityException e) {
            // The KEK opened the keyring, so this key row does not belong to it: altered, or put back
            // from a copy made under another keyring version.
            monitor.violation("crypto_keys", "the row MAC key does not unwrap under the keyring");
            throw IntegrityViolation.refusingToOpen("crypto_keys", "the row MAC key does not unwrap under keyring "
                    + "version " + keyring.version() + " (the key row or the keyring row was altered or put back from "
                    + "an older copy)", "Restore the whole database from one backup");
        }
        dev.tresor.keys.KeyringHolder keyrings = new dev.tresor.keys.KeyringHolder(store, keyProvider, keyring, seals,
                monitor);
        StoreHeads storeHeads = new StoreHeads(seals, keyrings);
        SecretLedger ledger = new SecretLedger(seals, storeHeads, store);
        boolean migratedNow = store.migratedNow(STORE_HEAD_SCHEMA);
        boolean keyringMigratedNow = store.migratedNow(KEYRING_HEAD_SCHEMA);
        String[] problem = store.write(w -> {
            boolean fresh = !w.anyClient() && w.secrets(null, null, 1).isEmpty() && w.groups().isEmpty();
            if (fresh && w.aclHead().isEmpty() && w.secretHead().isEmpty()) {
                AclHeadRow acl = seals.seal(0, "");
                SecretHeadRow secret = ledger.emptyHead();
                w.createHeadsIfMissing(acl, secret, storeHeads.initial(acl, secret));
            }
            // Lock order: ACL head, secret head, store head; a consistent view even while other nodes write.
            w.lockAclHead();
            w.lockSecretHead();
            String ledgerProblem = ledger.checkAll(w, !w.secrets(null, null, 1).isEmpty());
            if (ledgerProblem != null) {
                return new String[] {"secret ledger", ledgerProblem};
            }
            String headProblem = storeHeads.checkAtStart(w, !fresh, migratedNow, keyringMigratedNow);
            return headProblem == null ? null : new String[] {"store head", headProblem};
        });
        if (problem != null) {
            monitor.violation(problem[0], problem[1]);
            throw IntegrityViolation.refusingToOpen(problem[0], problem[1], "Restore the whole database from one "
                    + "backup and compare it with the audit log (tresor audit verify); see docs/operations.md, "
                    + "integrity alarms");
        }
        Tresor tresor = new Tresor(store, keyProvider, keyrings, seals, ledger, storeHeads, monitor, clock);
        if (store.migratedNow(SEALED_REVOCATIONS_SCHEMA)) {
            tresor.identity.sealRecordedRevocations();
        }
        return tresor;
    }

    /** A change feed over this store (not started); the server starts and closes it. */
    public dev.tresor.feed.ChangeFeed changeFeed(dev.tresor.feed.ChangeFeed.Settings settings) {
        return new dev.tresor.feed.ChangeFeed(store, seals, clock, settings, this::followCommits);
    }

    /**
     * Raises this node's integrity marks (secret ledger buckets, ACL head) to the store as it is
     * now, in reads of their own, and raises an alarm if a head went back. The change feed calls it
     * on every commit notification, so a node learns another node's change within the
     * notification's delay, whether or not a request reads the changed rows (issue 17).
     */
    public void followCommits() {
        String ledgerProblem = ledger.followLatest();
        if (ledgerProblem != null) {
            monitor.violation("secret ledger", ledgerProblem);
        }
        access.followHead();
    }

    /** The copy of this node's audit records into the store (not started), sealed with the row MAC key. */
    public dev.tresor.audit.AuditTableCopy auditTableCopy(String node, java.nio.file.Path logFile,
                                                          dev.tresor.audit.AuditTableCopy.Settings settings) {
        return new dev.tresor.audit.AuditTableCopy(store, seals, node, logFile, settings, clock);
    }

    /**
     * What GET /v1/audit reads: this node's log and, with {@code otherNodes}, the other nodes' copies
     * in the store, each copy checked against the row MAC (a bad one goes to the integrity monitor).
     */
    public dev.tresor.audit.AuditReader auditReader(java.nio.file.Path ownLog, String ownNode, boolean otherNodes) {
        return new dev.tresor.audit.AuditReader(ownLog, ownNode, otherNodes ? store : null, seals, monitor);
    }

    public AccessControl access() {
        return access;
    }

    public SecretService secrets() {
        return secrets;
    }

    public Store store() {
        return store;
    }

    /**
     * The provider's KEK (which also wraps the audit chain key and the CA key; see
     * docs/keyring-plan.md): the one given at start, or the one a KEK rotation on this node moved to.
     */
    public KeyProvider keyProvider() {
        return keyrings.kek();
    }

    /** This node's current keyring: it wraps the data keys and the row MAC key (kept current across nodes). */
    public Keyring keyring() {
        return keyrings.current();
    }

    /** Changes to the keyring: a new primary, a re-wrap under a new KEK. */
    public dev.tresor.keys.KeyringChanges keyringChanges() {
        return keyringChanges;
    }

    /** A keyring rotation: new primary, data keys re-wrapped in batches, older keys retired. */
    public dev.tresor.keys.KeyringRotation keyringRotation() {
        return keyringRotation;
    }

    /** The epochs the store head seals now (for audit checkpoints); empty if it does not verify. */
    public java.util.Optional<dev.tresor.audit.WriteEpochs> storeEpochs() {
        return store.read(storeHeads::epochs);
    }

    public Caller authenticate(String identity) {
        return access.authenticate(identity);
    }

    /**
     * The verified rows reusable for one request: take it once, before the request reads, and
     * pass it to {@link #authenticate(VerifiedRows.View, String)} and
     * {@link SecretService#read(VerifiedRows.View, Caller, String, dev.tresor.model.VersionSelector, boolean)}.
     */
    public VerifiedRows.View view() {
        return verified.current();
    }

    public Caller authenticate(VerifiedRows.View view, String identity) {
        return access.authenticate(view, identity);
    }

    // ------------------------------------------------------------------ bootstrap

    /**
     * Creates an admin client directly (no caller): for {@code tresor init} and {@code tresor dev}.
     * Idempotent when a client with the same name and identity exists.
     */
    public void bootstrapAdmin(String name, String identity) {
        Names.client(name);
        store.write(w -> {
            var existing = w.client(name);
            if (existing.isPresent()) {
                if (!existing.get().identity().equals(identity)) {
                    throw TresorException.conflict("client '" + name + "' exists with another identity");
                }
                return null;
            }
            AclEditor acl = access.edit(w);
            acl.createClient(name, identity, true, "bootstrap");
            acl.finish();
            return null;
        });
    }

    // ------------------------------------------------------------------ clients

    public ClientView whoami(Caller caller) {
        return access.whoami(caller);
    }

    public List<ClientView> listClients(Caller caller) {
        requireAdmin(caller, "list clients");
        return access.clients();
    }

    public ClientView getClient(Caller caller, String name) {
        requireAdmin(caller, "read clients");
        Names.client(name);
        return access.client(name).orElseThrow(() -> TresorException.notFound("client '" + name + "' does not exist"));
    }

    public ClientView createClient(Caller caller, String name, String identity, boolean admin) {
        requireAdmin(caller, "create clients");
        Names.client(name);
        String id = identity == null || identity.isBlank() ? name : identity;
        validateIdentity(id);
        editAcl(acl -> {
            acl.createClient(name, id, admin, caller.name());
            return null;
        });
        return getClient(caller, name);
    }

    public void deleteClient(Caller caller, String name) {
        requireAdmin(caller, "delete clients");
        Names.client(name);
        if (name.equals(caller.name())) {
            throw TresorException.conflict("you cannot delete your own client; ask another admin");
        }
        editAcl(acl -> {
            acl.deleteClient(name);
            return null;
        });
    }

    /** What the CA is asked to issue for a client: its verified identity and the earliest notBefore allowed. */
    public record IssuanceRequest(String client, String identity, Instant certificatesFrom) {}

    /** A certificate issued for a client, and whether it was a re-issue (the client already had one). */
    public record Issued<T>(T certificate, String identity, boolean reissue) {}

    /**
     * Issues a certificate for an existing, intact client through {@code issue}, in the same
     * transaction that counts it on the client's row. The identity comes from the client's
     * verified row, never from the request. The first certificate completes the client's
     * creation; any later one is a re-issue and must be asked for as such ({@code reissue}),
     * because it lets whoever holds it act as that client.
     */
    public <T> Issued<T> issueCertificate(Caller caller, String client, boolean reissue,
                                          Function<IssuanceRequest, T> issue) {
        requireAdmin(caller, "have certificates issued for clients");
        Names.client(client);
        try {
            return store.write(w -> {
                AclEditor acl = access.edit(w);
                Caller target = acl.intactClient(client);
                long before = acl.recordIssuance(client);
                if (before > 0 && !reissue) {
                    throw TresorException.conflict("client '" + client + "' already has a certificate (" + before
                            + " issued); to issue another one (a lost key, a move), ask for a re-issue explicitly"
                            + " (\"reissue\": true; audited as ca.reissue)");
                }
                T certificate = issue.apply(new IssuanceRequest(client, target.identity(),
                        acl.certificatesFrom(target.identity()).orElse(null)));
                if (certificate instanceof dev.tresor.ca.IssuedCertificate issued) {
                    this.identity.recordAdminIssuance(w, client, target.identity(), issued);
                }
                acl.finish();
                return new Issued<>(certificate, target.identity(), before > 0);
            });
        } catch (StoreConflictException e) {
            throw TresorException.conflict("a conflicting change happened at the same time; retry");
        }
    }

    private static void validateIdentity(String identity) {
        if (identity.length() > 2048) {
            throw TresorException.badRequest("identity is longer than 2048 characters");
        }
        try {
            dev.tresor.ca.Identities.validateIdentity(identity);
        } catch (IllegalArgumentException e) {
            throw TresorException.badRequest(e.getMessage());
        }
    }

    // ------------------------------------------------------------------ groups

    public List<GroupView> listGroups(Caller caller) {
        requireAdmin(caller, "list groups");
        return store.read(r -> {
            List<GroupView> out = new ArrayList<>();
            for (GroupRow g : r.groups()) {
                out.add(view(g, null, null));
            }
            return out;
        });
    }

    public GroupView getGroup(Caller caller, String name) {
        requireAdmin(caller, "read groups");
        Names.group(name);
        GroupView group = store.read(r -> r.groups().stream().filter(g -> g.name().equals(name)).findFirst()
                .map(g -> view(g, r.membershipsOfGroup(name).stream()
                        .map(m -> new GroupView.Member(m.client(), m.role())).toList(), null)))
                .orElseThrow(() -> TresorException.notFound("group '" + name + "' does not exist"));
        return new GroupView(group.name(), group.description(), group.createdAt(), group.createdBy(), group.intact(),
                group.clients(), secrets.secretsOfGroup(name));
    }

    private GroupView view(GroupRow g, List<GroupView.Member> clients, List<String> secretNames) {
        return new GroupView(g.name(), g.description(), Instant.ofEpochMilli(g.createdAt()), g.createdBy(), seals.valid(g),
                clients, secretNames);
    }

    public GroupView createGroup(Caller caller, String name, String description) {
        requireAdmin(caller, "create groups");
        Names.group(name);
        if (description != null && description.length() > 1024) {
            throw TresorException.badRequest("description must be at most 1024 characters");
        }
        editAcl(acl -> {
            acl.createGroup(name, description, caller.name());
            return null;
        });
        return getGroup(caller, name);
    }

    public void deleteGroup(Caller caller, String name) {
        requireAdmin(caller, "delete groups");
        Names.group(name);
        store.write(w -> {
            AclEditor acl = access.edit(w);
            acl.intactGroup(name);
            // Members learn of every secret they lose while the group's grants can still be named.
            acl.announceGroupDeletion(name);
            secrets.revokeAll(w, name);
            acl.deleteGroup(name);
            acl.finish();
            return null;
        });
    }

    public void addMember(Caller caller, String group, String client, Role role) {
        requireAdmin(caller, "change group membership");
        Names.group(group);
        Names.client(client);
        editAcl(acl -> {
            acl.setMembership(group, client, role);
            return null;
        });
    }

    public void removeMember(Caller caller, String group, String client) {
        requireAdmin(caller, "change group membership");
        Names.group(group);
        Names.client(client);
        editAcl(acl -> {
            acl.removeMembership(group, client);
            return null;
        });
    }

    public void grant(Caller caller, String group, String secret) {
        requireAdmin(caller, "grant secrets to groups");
        Names.group(group);
        Names.secret(secret);
        store.write(w -> {
            AclEditor acl = access.edit(w);
            acl.intactGroup(group);
            secrets.grant(w, group, secret);
            acl.finish();
            return null;
        });
    }

    public void revoke(Caller caller, String group, String secret) {
        requireAdmin(caller, "revoke grants");
        Names.group(group);
        Names.secret(secret);
        store.write(w -> {
            AclEditor acl = access.edit(w);
            secrets.revoke(w, group, secret);
            acl.finish();
            return null;
        });
    }

    /** For secret creation with groups: checks inside the transaction that each group exists and is intact. */
    public SecretService.GroupCheck groupCheck() {
        return (w, group) -> access.edit(w).intactGroup(group);
    }

    private <T> T editAcl(Function<AclEditor, T> change) {
        try {
            return store.write(w -> {
                AclEditor acl = access.edit(w);
                T result = change.apply(acl);
                acl.finish();
                return result;
            });
        } catch (StoreConflictException e) {
            throw TresorException.conflict("a conflicting change happened at the same time; retry");
        }
    }

    private static void requireAdmin(Caller caller, String what) {
        if (!caller.admin()) {
            throw TresorException.forbidden("only admins may " + what);
        }
    }
}
