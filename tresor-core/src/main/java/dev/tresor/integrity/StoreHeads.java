package dev.tresor.integrity;

import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.audit.WriteEpochs;
import dev.tresor.store.Rows.StoreHeadRow;
import dev.tresor.store.StoreReader;
import dev.tresor.store.StoreWriter;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Binds the ACL head and the secret ledger head to each other through the store head. Each head
 * on its own catches rows put back inside its half of the store; neither notices its whole half
 * being put back from an older copy while the server is stopped. The store head seals both heads
 * (epoch and MAC) together, so that only a rollback of every table at once still verifies: the
 * remaining limit, which the audit chain's checkpoints of {@link #epochs} catch.
 *
 * <p>Every transaction that moves a head calls {@link #bindAfterAclChange} or
 * {@link #bindAfterSecretChange} before it commits. Binding first checks that the stored store
 * head still seals the state this transaction started from; otherwise a head changed behind
 * Tresor's back would be laundered into a freshly sealed store head.
 */
public final class StoreHeads {

    private final RowSeals seals;

    public StoreHeads(RowSeals seals) {
        this.seals = seals;
    }

    /** The epochs the store head seals, for audit checkpoints. */

    /** A fresh store's store head over its fresh heads. */
    public StoreHeadRow initial(AclHeadRow acl, SecretHeadRow secret) {
        return seals.seal(acl, secret);
    }

    /**
     * Inside a write transaction that changed the ACL head from {@code before}: re-seals the store head.
     *
     * @return null on success, otherwise the integrity problem (nothing written)
     */
    public String bindAfterAclChange(StoreWriter w, AclHeadRow before) {
        Optional<StoreHeadRow> stored = w.lockStoreHead();
        Optional<AclHeadRow> acl = w.aclHead();
        Optional<SecretHeadRow> secret = w.secretHead();
        String problem = storedProblem(stored);
        if (problem != null) {
            return problem;
        }
        if (acl.isEmpty() || secret.isEmpty()) {
            return "a head row is missing while the store head exists";
        }
        if (!sameAcl(stored.get(), before.epoch(), before.mac())) {
            return "the store head does not seal the ACL head this change started from (the access-control tables were "
                    + "changed or put back behind Tresor's back)";
        }
        if (!sameSecret(stored.get(), secret.get().epoch(), secret.get().mac())) {
            return "the store head does not seal the current secret ledger head (the secret tables were changed or put "
                    + "back behind Tresor's back)";
        }
        w.putStoreHead(seals.seal(acl.get(), secret.get()));
        return null;
    }

    /**
     * Inside a write transaction that changed the secret ledger head from {@code before}: re-seals the store head.
     *
     * @return null on success, otherwise the integrity problem (nothing written)
     */
    public String bindAfterSecretChange(StoreWriter w, SecretHeadRow before) {
        Optional<StoreHeadRow> stored = w.lockStoreHead();
        Optional<AclHeadRow> acl = w.aclHead();
        Optional<SecretHeadRow> secret = w.secretHead();
        String problem = storedProblem(stored);
        if (problem != null) {
            return problem;
        }
        if (acl.isEmpty() || secret.isEmpty()) {
            return "a head row is missing while the store head exists";
        }
        if (!sameSecret(stored.get(), before.epoch(), before.mac())) {
            return "the store head does not seal the secret ledger head this change started from (the secret tables were "
                    + "changed or put back behind Tresor's back)";
        }
        if (!sameAcl(stored.get(), acl.get().epoch(), acl.get().mac())) {
            return "the store head does not seal the current ACL head (the access-control tables were changed or put "
                    + "back behind Tresor's back)";
        }
        w.putStoreHead(seals.seal(acl.get(), secret.get()));
        return null;
    }

    /**
     * At start-up: the store head exists, verifies, and seals exactly the stored ACL and secret
     * heads. A store migrated from schema 1 in this very start carries an unsealed store head,
     * which is sealed here if it still names the current heads.
     *
     * @param migratedNow true if the schema migration that wrote the unsealed head ran in this start
     * @return null if consistent, otherwise the problem
     */
    public String checkAtStart(StoreWriter w, boolean holdsData, boolean migratedNow) {
        Optional<StoreHeadRow> stored = w.lockStoreHead();
        Optional<AclHeadRow> acl = w.aclHead();
        Optional<SecretHeadRow> secret = w.secretHead();
        if (stored.isEmpty()) {
            return holdsData || acl.isPresent() || secret.isPresent()
                    ? "the store head is missing while the store holds data (deleted behind Tresor's back)" : null;
        }
        if (acl.isEmpty()) {
            return "the ACL head is missing while the store head exists (the access-control tables were emptied)";
        }
        if (secret.isEmpty()) {
            return "the secret ledger head is missing while the store head exists (the secret tables were emptied)";
        }
        if (!seals.valid(acl.get())) {
            return "the access-control tables do not match the store head: the ACL head's MAC does not verify "
                    + "(changed behind Tresor's back)";
        }
        StoreHeadRow head = stored.get();
        if (!head.sealed()) {
            if (!migratedNow) {
                return "the store head is unsealed although no schema migration wrote it in this start (reset behind "
                        + "Tresor's back)";
            }
        } else if (!seals.valid(head)) {
            return "the store head's MAC does not verify";
        }
        if (!sameAcl(head, acl.get().epoch(), acl.get().mac())) {
            return "the access-control tables do not match the store head: the ACL head is at epoch " + acl.get().epoch()
                    + " but the store head sealed epoch " + head.aclEpoch()
                    + " (only these tables were put back from another copy, or changed behind Tresor's back)";
        }
        if (!sameSecret(head, secret.get().epoch(), secret.get().mac())) {
            return "the secret tables do not match the store head: the secret ledger head is at epoch "
                    + secret.get().epoch() + " but the store head sealed epoch " + head.secretEpoch()
                    + " (only these tables were put back from another copy, or changed behind Tresor's back)";
        }
        if (!head.sealed()) {
            w.putStoreHead(seals.seal(acl.get(), secret.get()));
        }
        return null;
    }

    /** The epochs sealed by the store head, if it verifies. */
    public Optional<WriteEpochs> epochs(StoreReader r) {
        return r.storeHead().filter(seals::valid).map(h -> new WriteEpochs(h.aclEpoch(), h.secretEpoch()));
    }

    private String storedProblem(Optional<StoreHeadRow> stored) {
        if (stored.isEmpty()) {
            return "the store head is missing (deleted behind Tresor's back)";
        }
        if (!seals.valid(stored.get())) {
            return "the store head's MAC does not verify";
        }
        return null;
    }

    private static boolean sameAcl(StoreHeadRow head, long epoch, byte[] mac) {
        return head.aclEpoch() == epoch && MessageDigest.isEqual(head.aclMac(), mac);
    }

    private static boolean sameSecret(StoreHeadRow head, long epoch, byte[] mac) {
        return head.secretEpoch() == epoch && MessageDigest.isEqual(head.secretMac(), mac);
    }
}
