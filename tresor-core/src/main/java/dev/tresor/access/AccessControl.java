package dev.tresor.access;

import dev.tresor.cache.VerifiedRows;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.integrity.StoreHeads;
import dev.tresor.model.ClientView;
import dev.tresor.model.ClientView.MembershipView;
import dev.tresor.model.Failure;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Names;
import dev.tresor.model.TresorException;
import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreReader;
import dev.tresor.store.StoreWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Decides who a certificate identity is: reads the caller's client row and membership rows and
 * checks them (MACs, group digest, ACL-head registry). A verified caller is reused only while the
 * database has not changed at all ({@link VerifiedRows}), so a change made behind Tresor's back
 * is still noticed on the very next request, not after a cache expires. The ACL head's signature
 * check is cached by its exact bytes.
 *
 * <p>Reads are not one transaction; a check that fails is repeated once under the ACL head lock
 * before it is reported, so a concurrent legitimate change never raises a false alarm.
 */
public final class AccessControl {

    private final Store store;
    private final RowSeals seals;
    private final AclVerifier verifier;
    private final IntegrityMonitor monitor;
    private final Clock clock;
    private final AtomicReference<VerifiedHead> lastHead = new AtomicReference<>();
    private final AtomicLong highestEpoch = new AtomicLong(-1);

    private final VerifiedRows verified;
    private final StoreHeads storeHeads;

    public AccessControl(Store store, RowSeals seals, StoreHeads storeHeads, IntegrityMonitor monitor, Clock clock,
                         VerifiedRows verified) {
        this.store = store;
        this.storeHeads = storeHeads;
        this.verified = verified;
        this.seals = seals;
        this.verifier = new AclVerifier(seals);
        this.monitor = monitor;
        this.clock = clock;
    }

    record VerifiedHead(long epoch, byte[] mac, String registryText, Registry registry) {}

    /** Outcome of one attempt: a caller, an unknown identity, or an integrity problem. */
    private record Attempt(Caller caller, boolean unknown, String subject, String problem, boolean global) {}

    /**
     * Maps a verified certificate identity to a caller.
     *
     * @throws TresorException UNAUTHENTICATED for an unknown identity; FORBIDDEN for a disabled client
     * @throws IntegrityViolation if the caller's rows or the ACL head fail their checks
     */
    public Caller authenticate(String identity) {
        return authenticate(verified.current(), identity);
    }

    /**
     * As {@link #authenticate(String)}, reusing a caller {@code view} holds: one whose rows were
     * verified while the database has not changed since.
     */
    public Caller authenticate(VerifiedRows.View view, String identity) {
        Caller known = view.caller(identity);
        if (known != null) {
            return known;
        }
        Caller caller = authenticateFromStore(identity);
        view.putCaller(identity, caller);
        return caller;
    }

    private Caller authenticateFromStore(String identity) {
        Attempt attempt = store.read(r -> attempt(r, identity));
        if (attempt.problem() != null) {
            attempt = store.write(w -> {
                w.lockAclHead();
                return attempt(w, identity);
            });
        }
        if (attempt.problem() != null) {
            monitor.violation(attempt.subject(), attempt.problem());
            throw new IntegrityViolation(attempt.global() ? Failure.INTEGRITY : Failure.FORBIDDEN,
                    attempt.subject(), attempt.problem());
        }
        if (attempt.unknown()) {
            throw new TresorException(Failure.UNAUTHENTICATED, "certificate identity '" + Names.printable(identity)
                    + "' is not a registered client; ask an admin to run: tresor client create NAME --identity "
                    + Names.printable(identity));
        }
        return attempt.caller();
    }

    private Attempt attempt(StoreReader r, String identity) {
        HeadOrProblem head = verifyHead(r);
        if (head.problem() != null) {
            return new Attempt(null, false, "ACL head", head.problem(), true);
        }
        Optional<ClientRow> row = r.clientByIdentity(identity);
        if (row.isEmpty()) {
            return new Attempt(null, true, null, null, false);
        }
        AclVerifier.Verdict verdict = verifier.verify(head.head().registry(), row.get(), r.membershipsOfClient(row.get().name()));
        if (!verdict.intact()) {
            return new Attempt(null, false, "client " + row.get().name(), verdict.problem(), false);
        }
        if (!row.get().enabled()) {
            throw TresorException.forbidden("client '" + row.get().name() + "' is disabled");
        }
        return new Attempt(verdict.caller(), false, null, null, false);
    }

    record HeadOrProblem(VerifiedHead head, String problem) {}

    HeadOrProblem verifyHead(StoreReader r) {
        // The high-water mark is taken before the head is read: any epoch in it then was committed
        // before this read's snapshot, so the snapshot must show it or a later one. Taken after, a
        // concurrent reader could raise it past an older but legitimate snapshot (a false alarm
        // seen under two-node write load on PostgreSQL).
        long highest = highestEpoch.get();
        Optional<AclHeadRow> row = r.aclHead();
        if (row.isEmpty()) {
            if (r.anyClient()) {
                return new HeadOrProblem(null, "the ACL head row is missing while client rows exist");
            }
            return new HeadOrProblem(new VerifiedHead(0, new byte[0], "", Registry.empty()), null);
        }
        AclHeadRow head = row.get();
        // Before the cache: the verified head this node last saw may be exactly the one put back
        // after this node's own write moved past it. A snapshot from before a commit this node
        // has since seen (its own write, a newer reader) is older but no rollback: the store as it
        // is now tells the two apart.
        if (head.epoch() < highest && !snapshotBehind(highest)) {
            return new HeadOrProblem(null, "the ACL head went back from epoch " + highest + " to " + head.epoch()
                    + " (the access-control tables were rolled back)");
        }
        String unbound = storeHeads.checkBindsAcl(r, head);
        if (unbound != null) {
            return new HeadOrProblem(null, unbound);
        }
        VerifiedHead cached = lastHead.get();
        if (cached != null && cached.epoch() == head.epoch() && java.security.MessageDigest.isEqual(cached.mac(), head.mac())
                && cached.registryText().equals(head.registry())) {
            return new HeadOrProblem(cached, null);
        }
        if (!seals.valid(head)) {
            return new HeadOrProblem(null, "the ACL head row's MAC does not verify");
        }
        Registry registry;
        try {
            registry = Registry.parse(head.registry());
        } catch (IllegalArgumentException e) {
            return new HeadOrProblem(null, "the ACL head registry is malformed");
        }
        VerifiedHead verified = new VerifiedHead(head.epoch(), head.mac(), head.registry(), registry);
        highestEpoch.accumulateAndGet(head.epoch(), Math::max);
        lastHead.set(verified);
        return new HeadOrProblem(verified, null);
    }

    /**
     * Verifies the ACL head as stored now and raises this node's mark to it; a head that went back
     * is reported to the integrity monitor. Called on commit notifications, so that a node that
     * serves no request in between still knows the newest epoch (see {@code Tresor#followCommits}).
     */
    public void followHead() {
        HeadOrProblem head = store.read(this::verifyHead);
        if (head.problem() != null) {
            monitor.violation("ACL head", head.problem());
        }
    }

    private boolean snapshotBehind(long highest) {
        Optional<AclHeadRow> now = store.read(StoreReader::aclHead);
        return now.isPresent() && now.get().epoch() >= highest && seals.valid(now.get());
    }

    /**
     * Every client with its integrity verdict, for admins; also reports rows the registry lists but
     * that are gone, and rows that exist but are not registered.
     */
    public List<ClientView> clients() {
        return store.read(r -> {
            HeadOrProblem head = verifyHead(r);
            Registry registry = head.head() == null ? Registry.empty() : head.head().registry();
            if (head.problem() != null) {
                monitor.violation("ACL head", head.problem());
            }
            Map<String, List<MembershipRow>> byClient = new HashMap<>();
            for (MembershipRow m : r.memberships()) {
                byClient.computeIfAbsent(m.client(), k -> new ArrayList<>()).add(m);
            }
            List<ClientView> out = new ArrayList<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (ClientRow row : r.clients()) {
                seen.add(row.name());
                AclVerifier.Verdict v = verifier.verify(registry, row, byClient.getOrDefault(row.name(), List.of()));
                boolean intact = head.problem() == null && v.intact();
                if (!v.intact() && head.problem() == null) {
                    monitor.violation("client " + row.name(), v.problem());
                }
                out.add(view(row, byClient.getOrDefault(row.name(), List.of()), intact));
            }
            for (String registered : registry.asMap().keySet()) {
                if (!seen.contains(registered)) {
                    monitor.violation("client " + registered, "client row registered in the ACL head is missing (deleted behind Tresor's back)");
                }
            }
            return out;
        });
    }

    public Optional<ClientView> client(String name) {
        return clients().stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public static ClientView view(Caller caller, ClientRow row) {
        List<MembershipView> groups = caller.groups().entrySet().stream()
                .map(e -> new MembershipView(e.getKey(), e.getValue().wireName())).toList();
        return new ClientView(row.name(), row.identity(), row.admin(), row.enabled(), groups,
                Instant.ofEpochMilli(row.createdAt()), row.createdBy(), true);
    }

    static ClientView view(ClientRow row, List<MembershipRow> memberships, boolean intact) {
        List<MembershipView> groups = memberships.stream().map(m -> new MembershipView(m.group(), m.role())).toList();
        return new ClientView(row.name(), row.identity(), row.admin(), row.enabled(), groups,
                Instant.ofEpochMilli(row.createdAt()), row.createdBy(), intact);
    }

    /** The caller's own view, read fresh (for {@code whoami}). */
    public ClientView whoami(Caller caller) {
        return store.read(r -> r.client(caller.name()))
                .map(row -> view(caller, row))
                .orElseThrow(() -> new TresorException(Failure.UNAUTHENTICATED, "client no longer exists"));
    }

    /**
     * The revoked certificates the ACL head seals (serial in lower-case hex → when revoked), read
     * through the verified head: a head that does not verify is an integrity violation, never an
     * empty list.
     */
    public java.util.SortedMap<String, Long> sealedRevocations(StoreReader r) {
        HeadOrProblem head = verifyHead(r);
        if (head.problem() != null) {
            monitor.violation("ACL head", head.problem());
            throw new IntegrityViolation("ACL head", head.problem());
        }
        return head.head().registry().revokedAt();
    }

    /** Starts an edit of the ACL inside a write transaction; call {@link AclEditor#finish()} before it commits. */
    public AclEditor edit(StoreWriter w) {
        HeadOrProblem head;
        Optional<AclHeadRow> locked = w.lockAclHead();
        head = verifyHead(w);
        if (head.problem() != null) {
            monitor.violation("ACL head", head.problem());
            throw new IntegrityViolation("ACL head", head.problem());
        }
        if (locked.isEmpty()) {
            // Every store gets its heads when it is opened; one missing now was deleted.
            String problem = "the ACL head row is missing";
            monitor.violation("ACL head", problem);
            throw new IntegrityViolation("ACL head", problem);
        }
        return new AclEditor(w, seals, verifier, monitor, clock, locked.get(), storeHeads, head.head().registry(),
                epoch -> highestEpoch.accumulateAndGet(epoch, Math::max));
    }
}
