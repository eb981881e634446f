package dev.tresor.access;

import dev.tresor.feed.ChangeKind;
import dev.tresor.feed.ChangeRecorder;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Role;
import dev.tresor.model.TresorException;
import dev.tresor.integrity.StoreHeads;
import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.StoreConflictException;
import dev.tresor.store.StoreWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Changes the access-control rows inside one write transaction that holds the ACL head lock.
 * Each change starts from rows that pass their checks (a tampered row is never re-sealed, which
 * would launder the tampering) and ends by re-sealing what it touched and the ACL head.
 */
public final class AclEditor {

    private final StoreWriter w;
    private final RowSeals seals;
    private final AclVerifier verifier;
    private final IntegrityMonitor monitor;
    private final Clock clock;
    private final AclHeadRow before;
    private final StoreHeads storeHeads;
    private Registry registry;
    private boolean dirty;
    private final ChangeRecorder changes;
    private final java.util.function.LongConsumer committedEpoch;

    /** @param committedEpoch told the new head's epoch once the transaction committed (the node's high-water mark) */
    AclEditor(StoreWriter w, RowSeals seals, AclVerifier verifier, IntegrityMonitor monitor, Clock clock,
              AclHeadRow before, StoreHeads storeHeads, Registry registry, java.util.function.LongConsumer committedEpoch) {
        this.w = w;
        this.committedEpoch = committedEpoch;
        this.seals = seals;
        this.verifier = verifier;
        this.monitor = monitor;
        this.clock = clock;
        this.before = before;
        this.storeHeads = storeHeads;
        this.registry = registry;
        this.changes = new ChangeRecorder(clock);
    }

    // ------------------------------------------------------------------ clients

    public void createClient(String name, String identity, boolean admin, String createdBy) {
        if (w.client(name).isPresent()) {
            throw TresorException.conflict("client '" + name + "' already exists");
        }
        if (w.clientByIdentity(identity).isPresent()) {
            throw TresorException.conflict("another client already has the identity '" + identity + "'");
        }
        ClientRow row = seals.seal(new ClientRow(name, identity, admin, true,
                seals.membershipDigest(name, Map.of()), clock.millis(), createdBy, 0, null));
        try {
            w.insertClient(row);
        } catch (StoreConflictException e) {
            throw TresorException.conflict("client '" + name + "' or its identity already exists");
        }
        register(row);
    }

    /** Deletes a client and its memberships. Works on a tampered client too: deleting is the remedy. */
    public void deleteClient(String name) {
        if (w.client(name).isEmpty() && !registry.asMap().containsKey(name)) {
            throw TresorException.notFound("client '" + name + "' does not exist");
        }
        Optional<ClientRow> row = w.client(name);
        for (MembershipRow m : w.membershipsOfClient(name)) {
            w.deleteMembership(m.group(), name);
        }
        w.deleteClient(name);
        registry = registry.without(name);
        if (row.isPresent()) {
            long now = clock.millis();
            long forgetBefore = now - CertificateAuthority.MAX_LEAF_TTL.plus(CertificateAuthority.CLOCK_SKEW_ALLOWANCE).toMillis();
            registry = registry.retire(row.get().identity(), now, forgetBefore);
        }
        dirty = true;
    }

    /**
     * Revokes every certificate issued so far for {@code identity}: from now on the identity accepts
     * only certificates valid from this moment (as when its client is deleted). Sealed in the ACL
     * head, so a database edit cannot undo it without the KEK.
     */
    public void retireIdentity(String identity) {
        long now = clock.millis();
        long forgetBefore = now - CertificateAuthority.MAX_LEAF_TTL.plus(CertificateAuthority.CLOCK_SKEW_ALLOWANCE).toMillis();
        registry = registry.retire(identity, now, forgetBefore);
        dirty = true;
    }

    /**
     * Lists the certificate with {@code serial} (lower-case hex) as revoked, sealed in the ACL head;
     * a no-op if it already is. Returns whether it was newly listed.
     */
    public boolean revokeCertificate(String serial) {
        return revokeCertificate(serial, clock.millis());
    }

    /** As {@link #revokeCertificate(String)}, revoked at {@code atMillis} (a revocation recorded earlier). */
    public boolean revokeCertificate(String serial, long atMillis) {
        if (registry.revoked(serial)) {
            return false;
        }
        long now = clock.millis();
        if (atMillis < revocationsForgottenBefore(now)) {
            return false;
        }
        registry = registry.revoke(serial, atMillis, revocationsForgottenBefore(now));
        dirty = true;
        return true;
    }

    /** The revoked certificates as this edit will seal them. */
    public java.util.SortedMap<String, Long> revocations() {
        return registry.revokedAt();
    }

    /**
     * Revocations older than the longest certificate lifetime: a certificate issued before its
     * revocation cannot be valid any more, whatever its row says.
     */
    static long revocationsForgottenBefore(long nowMillis) {
        return nowMillis - CertificateAuthority.MAX_LEAF_TTL.plus(CertificateAuthority.CLOCK_SKEW_ALLOWANCE).toMillis();
    }

    /**
     * Counts one more certificate issued for an intact client and returns how many were issued
     * before it (0 for the certificate that completes the client's creation).
     */
    public long recordIssuance(String name) {
        intactClient(name);
        ClientRow row = w.client(name).orElseThrow();
        ClientRow updated = seals.seal(new ClientRow(row.name(), row.identity(), row.admin(), row.enabled(),
                row.groupsDigest(), row.createdAt(), row.createdBy(), row.certsIssued() + 1, null));
        w.updateClient(updated);
        register(updated);
        return row.certsIssued();
    }

    /** The earliest notBefore a certificate for {@code identity} may carry: when the identity was last retired. */
    public Optional<java.time.Instant> certificatesFrom(String identity) {
        return registry.retiredAt(identity)
                .map(at -> java.time.Instant.ofEpochMilli(at).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    /** The client's row and memberships, verified; refuses a tampered client. */
    public Caller intactClient(String name) {
        ClientRow row = w.client(name).orElseThrow(() -> TresorException.notFound("client '" + name + "' does not exist"));
        AclVerifier.Verdict verdict = verifier.verify(registry, row, w.membershipsOfClient(name));
        if (!verdict.intact()) {
            monitor.violation("client " + name, verdict.problem());
            throw new IntegrityViolation("client " + name, verdict.problem());
        }
        return verdict.caller();
    }

    // ------------------------------------------------------------------ groups

    public void createGroup(String name, String description, String createdBy) {
        if (w.groups().stream().anyMatch(g -> g.name().equals(name))) {
            throw TresorException.conflict("group '" + name + "' already exists");
        }
        var sealedToIt = w.secretsNamingGroup(name);
        if (!sealedToIt.isEmpty()) {
            // Deleting a group removes it from every sealed list; a list that still names it means its
            // group row (or its grant rows) went away behind Tresor's back. A new group must not inherit.
            String problem = sealedToIt.size() + " secret(s) (e.g. '" + sealedToIt.getFirst().name() + "') are still "
                    + "sealed to a group of this name, whose row was deleted behind Tresor's back";
            monitor.violation("group " + name, problem);
            throw new IntegrityViolation("group " + name, problem);
        }
        try {
            w.insertGroup(seals.seal(new GroupRow(name, description, clock.millis(), createdBy, null)));
        } catch (StoreConflictException e) {
            throw TresorException.conflict("group '" + name + "' already exists");
        }
    }

    /** The group's row, verified; refuses a missing or tampered group. */
    public GroupRow intactGroup(String name) {
        Optional<GroupRow> row = w.groups().stream().filter(g -> g.name().equals(name)).findFirst();
        if (row.isEmpty()) {
            throw TresorException.notFound("group '" + name + "' does not exist");
        }
        if (!seals.valid(row.get())) {
            monitor.violation("group " + name, "group row MAC does not verify");
            throw new IntegrityViolation("group " + name, "group row MAC does not verify");
        }
        return row.get();
    }

    /** Tells each member of a group about to be deleted which secrets it loses (before the grants go). */
    public void announceGroupDeletion(String group) {
        List<String> secrets = grantedTo(group);
        for (MembershipRow m : w.membershipsOfGroup(group)) {
            changes.clientAccess(w, ChangeKind.REVOKED, m.client(), secrets);
        }
    }

    /** Removes every membership of the group, then the group row. Grants are the secret side's job. */
    public void deleteGroup(String name) {
        if (w.groups().stream().noneMatch(g -> g.name().equals(name))) {
            throw TresorException.notFound("group '" + name + "' does not exist");
        }
        for (MembershipRow m : w.membershipsOfGroup(name)) {
            removeMembership(name, m.client());
        }
        w.deleteGroup(name);
    }

    // ------------------------------------------------------------------ memberships

    public void setMembership(String group, String client, Role role) {
        intactGroup(group);
        Caller current = intactClient(client);
        ClientRow row = w.client(client).orElseThrow();
        Map<String, String> roles = roles(current);
        roles.put(group, role.wireName());
        w.putMembership(seals.seal(new MembershipRow(group, client, role.wireName(), null)));
        reseal(row, roles);
        changes.clientAccess(w, ChangeKind.GRANTED, client, grantedTo(group));
    }

    public void removeMembership(String group, String client) {
        Caller current = intactClient(client);
        if (!current.groups().containsKey(group)) {
            throw TresorException.notFound("client '" + client + "' is not a member of group '" + group + "'");
        }
        ClientRow row = w.client(client).orElseThrow();
        Map<String, String> roles = roles(current);
        roles.remove(group);
        w.deleteMembership(group, client);
        reseal(row, roles);
        changes.clientAccess(w, ChangeKind.REVOKED, client, grantedTo(group));
    }

    /** The secrets the grant index names for a group; the feed re-checks each against its sealed row. */
    private List<String> grantedTo(String group) {
        return w.grantsOfGroup(group).stream().map(GrantRow::secret).toList();
    }

    private static Map<String, String> roles(Caller caller) {
        Map<String, String> roles = new TreeMap<>();
        caller.groups().forEach((g, r) -> roles.put(g, r.wireName()));
        return roles;
    }

    private void reseal(ClientRow row, Map<String, String> roles) {
        ClientRow updated = seals.seal(new ClientRow(row.name(), row.identity(), row.admin(), row.enabled(),
                seals.membershipDigest(row.name(), roles), row.createdAt(), row.createdBy(), row.certsIssued(), null));
        w.updateClient(updated);
        register(updated);
    }

    private void register(ClientRow row) {
        registry = registry.with(row.name(), row.mac());
        dirty = true;
    }

    public List<String> registeredClients() {
        return List.copyOf(registry.asMap().keySet());
    }

    /** Writes the new ACL head (epoch + 1) if anything changed. Must run before the transaction commits. */
    public void finish() {
        if (dirty) {
            long epoch = before.epoch() + 1;
            w.putAclHead(seals.seal(epoch, registry.encode()));
            // This node made the epoch: once durable, an older head is a rollback here even before
            // the next request reads the head (a removed member's rows put back right after the
            // removal were accepted until then).
            w.afterCommit(() -> committedEpoch.accept(epoch));
            String problem = storeHeads.bindAfterAclChange(w, before);
            if (problem != null) {
                monitor.violation("store head", problem);
                throw new IntegrityViolation("store head", problem);
            }
            dirty = false;
        }
    }

}
