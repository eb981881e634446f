package dev.tresor.store;

import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.store.Rows.GroupRow;
import dev.tresor.store.Rows.KeyRow;
import dev.tresor.store.Rows.MembershipRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import java.util.Optional;

/**
 * Writes inside one transaction. Lock order, to stay deadlock-free on PostgreSQL: the ACL head
 * first, then secret rows. Conflicting inserts raise {@link StoreConflictException}.
 */
public interface StoreWriter extends StoreReader {

    void insertKey(KeyRow row);

    /** Locks the ACL head row for the rest of the transaction and returns it. */
    Optional<AclHeadRow> lockAclHead();

    void putAclHead(AclHeadRow row);

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
}
