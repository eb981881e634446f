package dev.tresor.audit;

import java.util.Objects;
import java.util.Optional;

/**
 * What the store knows about an audit log when the log is opened, so that the log and the store
 * can each catch the other being cut or put back from an older copy.
 *
 * @param checkpoint     the log's sealed checkpoint as saved in the store, if any
 * @param storeHoldsData whether the store already holds data (a new log on such a store says so in
 *                       its first record)
 * @param storeEpochs    the store's current write epochs
 * @param acceptRollback the operator's reason to start anyway after a detected cut or rollback
 *                       ({@code --accept-rollback}), recorded in the chain; null refuses
 * @param anchored       false only for a log opened without a store (tools, tests): no store
 *                       checks at all
 */
public record AuditStart(Optional<String> checkpoint, boolean storeHoldsData, WriteEpochs storeEpochs,
                         String acceptRollback, boolean anchored) {

    public AuditStart {
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(storeEpochs, "storeEpochs");
        if (acceptRollback != null && acceptRollback.isBlank()) {
            throw new IllegalArgumentException("a reason to accept a rollback must not be blank");
        }
    }

    /** A log opened with the store's view of it. */
    public static AuditStart of(Optional<String> checkpoint, boolean storeHoldsData, WriteEpochs storeEpochs,
                                String acceptRollback) {
        return new AuditStart(checkpoint, storeHoldsData, storeEpochs, acceptRollback, true);
    }

    /** What {@code store} knows of the log named {@code logName} (its file name). */
    public static AuditStart fromStore(dev.tresor.store.StoreReader store, String logName, String acceptRollback) {
        var head = store.storeHead();
        boolean holdsData = head.isPresent() || store.aclHead().isPresent() || store.anyClient();
        WriteEpochs epochs = head.map(h -> new WriteEpochs(h.aclEpoch(), h.secretEpoch())).orElse(WriteEpochs.NONE);
        return of(store.auditCheckpoint(logName), holdsData, epochs, acceptRollback);
    }

    /** A log opened on its own: verified in full against its anchor, nothing compared with a store. */
    public static AuditStart unanchored() {
        return new AuditStart(Optional.empty(), false, WriteEpochs.NONE, null, false);
    }
}
