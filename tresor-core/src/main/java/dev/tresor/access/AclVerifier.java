package dev.tresor.access;

import dev.tresor.integrity.RowSeals;
import dev.tresor.model.Role;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.MembershipRow;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Checks one client's rows against each other and against the verified ACL head. Pure: no I/O. */
final class AclVerifier {

    private final RowSeals seals;

    AclVerifier(RowSeals seals) {
        this.seals = seals;
    }

    /** The outcome for one client: either the caller it proves, or why it is refused. */
    record Verdict(Caller caller, String problem) {
        boolean intact() {
            return problem == null;
        }
    }

    Verdict verify(Registry registry, ClientRow row, List<MembershipRow> memberships) {
        if (!seals.valid(row)) {
            return new Verdict(null, "client row MAC does not verify (a column was changed)");
        }
        if (!registry.lists(row.name(), row.mac())) {
            return new Verdict(null, "client row is not the one registered in the ACL head (re-inserted or replayed row)");
        }
        SortedMap<String, Role> groups = new TreeMap<>();
        Map<String, String> roles = new TreeMap<>();
        for (MembershipRow m : memberships) {
            if (!m.client().equals(row.name()) || !seals.valid(m)) {
                return new Verdict(null, "membership row (" + m.group() + ") MAC does not verify");
            }
            Role role;
            try {
                role = Role.parse(m.role());
            } catch (RuntimeException e) {
                return new Verdict(null, "membership row (" + m.group() + ") has an unknown role");
            }
            groups.put(m.group(), role);
            roles.put(m.group(), m.role());
        }
        byte[] digest = seals.membershipDigest(row.name(), roles);
        if (!java.security.MessageDigest.isEqual(digest, row.groupsDigest())) {
            return new Verdict(null, "membership rows do not match the client's group digest (a membership row was added, removed or replayed)");
        }
        // Certificates carry whole seconds: a certificate may start in the second of the retirement.
        java.time.Instant from = registry.retiredAt(row.identity())
                .map(at -> java.time.Instant.ofEpochMilli(at).truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                .orElse(null);
        return new Verdict(new Caller(row.name(), row.identity(), row.admin(), groups, from), null);
    }
}
