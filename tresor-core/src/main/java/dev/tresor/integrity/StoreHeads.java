package dev.tresor.integrity;

import dev.tresor.store.Rows.AclHeadRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.audit.WriteEpochs;
import dev.tresor.crypto.Keyring;
import dev.tresor.keys.KeyringSource;
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
 *
 * <p>The store head also binds the keyring (version and key ids; schema 7): every binding reads
 * the keyring row inside its transaction ({@link KeyringSource#syncIn}), and a keyring change
 * re-seals the head in its own transaction ({@link #bindAfterKeyringChange}). A keyring row put
 * back from an older copy, even with the row MAC key row of that time and no value written since,
 * then no longer matches the store head.
 */
public final class StoreHeads {

    private final RowSeals seals;
    private final KeyringSource keyrings;
    /** The last store head whose MAC verified, reused while the stored one is byte for byte the same. */
    private volatile StoreHeadRow lastVerified;

    public StoreHeads(RowSeals seals, KeyringSource keyrings) {
        this.seals = seals;
        this.keyrings = keyrings;
    }

    /** A fresh store's store head over its fresh heads and the current keyring. */
    public StoreHeadRow initial(AclHeadRow acl, SecretHeadRow secret) {
        return seals.seal(acl, secret, keyrings.current());
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
        Keyring keyring = keyrings.syncIn(w);
        String problem = storedProblem(stored, keyring);
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
        w.putStoreHead(seals.seal(acl.get(), secret.get(), keyring));
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
        Keyring keyring = keyrings.syncIn(w);
        String problem = storedProblem(stored, keyring);
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
        w.putStoreHead(seals.seal(acl.get(), secret.get(), keyring));
        return null;
    }

    /**
     * Inside the transaction that changed the keyring row from {@code before} to {@code after}
     * (holding the ACL head and secret head locks, in that order, like every writer): re-seals the
     * store head over the new keyring. The stored head must seal the current heads and exactly
     * {@code before}.
     *
     * @return null on success, otherwise the integrity problem (nothing written)
     */
    public String bindAfterKeyringChange(StoreWriter w, Keyring before, Keyring after) {
        Optional<StoreHeadRow> stored = w.lockStoreHead();
        Optional<AclHeadRow> acl = w.aclHead();
        Optional<SecretHeadRow> secret = w.secretHead();
        String problem = storedProblem(stored, before);
        if (problem != null) {
            return problem;
        }
        if (acl.isEmpty() || secret.isEmpty()) {
            return "a head row is missing while the store head exists";
        }
        if (!sameAcl(stored.get(), acl.get().epoch(), acl.get().mac())
                || !sameSecret(stored.get(), secret.get().epoch(), secret.get().mac())) {
            return "the store head does not seal the current ACL and secret ledger heads (tables changed or put back "
                    + "behind Tresor's back)";
        }
        w.putStoreHead(seals.seal(acl.get(), secret.get(), after));
        return null;
    }

    /**
     * At start-up: the store head exists, verifies, and seals exactly the stored ACL and secret
     * heads. A store migrated from schema 1 in this very start carries an unsealed store head,
     * which is sealed here if it still names the current heads.
     *
     * <p>The head must bind the keyring this start opened. A head sealed before schema 7 (no
     * keyring version) is accepted in that format when this start ran the schema 7 migration, or
     * while the keyring is at its first version (nothing older to put back; a store converted to
     * the keyring whose first start failed), and is then re-sealed over the keyring.
     *
     * @param migratedNow true if the schema migration that wrote the unsealed head ran in this start
     * @param keyringMigratedNow true if the schema migration that added the keyring version ran in this start
     * @return null if consistent, otherwise the problem
     */
    public String checkAtStart(StoreWriter w, boolean holdsData, boolean migratedNow, boolean keyringMigratedNow) {
        Keyring keyring = keyrings.current();
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
        boolean reseal = false;
        if (!head.sealed()) {
            if (!migratedNow) {
                return "the store head is unsealed although no schema migration wrote it in this start (reset behind "
                        + "Tresor's back)";
            }
            reseal = true;
        } else if (head.keyringVersion() == null) {
            if (!keyringMigratedNow && keyring.version() != 1) {
                return "the store head binds no keyring version although the keyring is at version " + keyring.version()
                        + " (reset or put back from before schema 7, behind Tresor's back)";
            }
            if (!seals.validLegacy(head)) {
                return "the store head's MAC does not verify";
            }
            reseal = true;
        } else if (head.keyringVersion() != keyring.version()) {
            return "the store head names keyring version " + head.keyringVersion() + " but the keyring row is at version "
                    + keyring.version() + (head.keyringVersion() > keyring.version()
                    ? " (the keyring row, and perhaps the row MAC key row, were put back from an older copy)"
                    : " (the keyring row was changed behind Tresor's back)");
        } else if (!seals.valid(head, keyring)) {
            return "the store head's MAC does not verify over keyring version " + keyring.version() + " and its keys "
                    + "(the store head or the keyring row was changed or put back behind Tresor's back)";
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
        if (reseal) {
            w.putStoreHead(seals.seal(acl.get(), secret.get(), keyring));
        }
        return null;
    }

    /**
     * In a read's snapshot: the store head seals exactly this ACL head. Every change of the ACL
     * head re-seals the store head in the same transaction, so in one snapshot the two agree;
     * an ACL head put back on its own (with the rows of its time) no longer does, on every node,
     * including one that never read the newer head.
     *
     * @return null if bound, otherwise the problem
     */
    public String checkBindsAcl(StoreReader r, AclHeadRow acl) {
        StoreHeadRow head = verified(r);
        if (head == null) {
            return UNVERIFIED;
        }
        return sameAcl(head, acl.epoch(), acl.mac()) ? null : "the store head seals ACL epoch " + head.aclEpoch()
                + " but the ACL head is at epoch " + acl.epoch() + " (the ACL head was put back or changed behind "
                + "Tresor's back)";
    }

    /** As {@link #checkBindsAcl}, for the secret ledger head. */
    public String checkBindsSecret(StoreReader r, SecretHeadRow secret) {
        StoreHeadRow head = verified(r);
        if (head == null) {
            return UNVERIFIED;
        }
        return sameSecret(head, secret.epoch(), secret.mac()) ? null : "the store head seals secret ledger epoch "
                + head.secretEpoch() + " but the secret ledger head is at epoch " + secret.epoch() + " (the secret "
                + "ledger head was put back or changed behind Tresor's back)";
    }

    private static final String UNVERIFIED = "the store head is missing or does not verify over the keyring as stored "
            + "(the store head, the keyring row or the row MAC key was changed or put back behind Tresor's back)";

    private StoreHeadRow verified(StoreReader r) {
        Optional<StoreHeadRow> stored = r.storeHead();
        if (stored.isEmpty()) {
            return null;
        }
        StoreHeadRow head = stored.get();
        StoreHeadRow known = lastVerified;
        if (known != null && known.aclEpoch() == head.aclEpoch() && known.secretEpoch() == head.secretEpoch()
                && java.util.Objects.equals(known.keyringVersion(), head.keyringVersion())
                && MessageDigest.isEqual(known.aclMac(), head.aclMac())
                && MessageDigest.isEqual(known.secretMac(), head.secretMac())
                && MessageDigest.isEqual(known.mac(), head.mac())) {
            return known;
        }
        Keyring keyring = keyrings.current();
        if (head.keyringVersion() != null && head.keyringVersion() > keyring.version()) {
            keyring = keyrings.syncIn(r);
        }
        if (!seals.valid(head, keyring)) {
            return null;
        }
        lastVerified = head;
        return head;
    }

    /** The epochs sealed by the store head, if it verifies (over the keyring as stored now). */
    public Optional<WriteEpochs> epochs(StoreReader r) {
        Optional<StoreHeadRow> head = r.storeHead();
        if (head.isEmpty()) {
            return Optional.empty();
        }
        Keyring keyring = keyrings.current();
        if (head.get().keyringVersion() != null && head.get().keyringVersion() > keyring.version()) {
            keyring = keyrings.syncIn(r);
        }
        Keyring sealedOver = keyring;
        return head.filter(h -> seals.valid(h, sealedOver)).map(h -> new WriteEpochs(h.aclEpoch(), h.secretEpoch()));
    }

    private String storedProblem(Optional<StoreHeadRow> stored, Keyring keyring) {
        if (stored.isEmpty()) {
            return "the store head is missing (deleted behind Tresor's back)";
        }
        StoreHeadRow head = stored.get();
        if (head.keyringVersion() == null || !head.sealed()) {
            return "the store head binds no keyring (reset or put back from before schema 7 behind Tresor's back)";
        }
        if (head.keyringVersion() != keyring.version()) {
            return "the store head names keyring version " + head.keyringVersion() + " but the keyring row is at version "
                    + keyring.version() + " (the keyring row or the store head was put back from an older copy)";
        }
        if (!seals.valid(head, keyring)) {
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
