package dev.tresor.access;

import dev.tresor.model.Role;
import java.time.Instant;
import java.util.Collection;
import java.util.SortedMap;

/**
 * A client whose certificate identity matched a client row that passed every integrity check.
 * Only the access-control code constructs callers, so holding one means "authenticated".
 */
public record Caller(String name, String identity, boolean admin, SortedMap<String, Role> groups,
                     Instant certificatesFrom) {

    public Caller {
        groups = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(groups));
    }

    /**
     * True if a certificate valid from {@code notBefore} may act as this client. A client whose
     * identity was retired (an earlier client with it was deleted) accepts only certificates
     * issued since: the deleted client's certificates stay refused.
     */
    public boolean acceptsCertificateFrom(Instant notBefore) {
        return certificatesFrom == null || !notBefore.isBefore(certificatesFrom);
    }

    /** True if this caller shares at least one group with {@code secretGroups}: the read rule. */
    public boolean sharesGroupWith(Collection<String> secretGroups) {
        for (String g : secretGroups) {
            if (groups.containsKey(g)) {
                return true;
            }
        }
        return false;
    }

    /** True if this caller holds the write role in at least one of {@code secretGroups}. */
    public boolean canWriteAny(Collection<String> secretGroups) {
        for (String g : secretGroups) {
            if (groups.get(g) == Role.WRITE) {
                return true;
            }
        }
        return false;
    }
}
