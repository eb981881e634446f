package dev.tresor.audit;

import java.io.IOException;

/**
 * An existing audit log failed verification when a writer tried to open it. The writer refuses
 * to continue such a chain: appending to it would bury the evidence of tampering under fresh,
 * valid records. The operator runs {@code tresor audit verify} and decides (keep the file as
 * evidence and start a new log beside it).
 */
public class AuditChainException extends IOException {

    public AuditChainException(String message) {
        super(message);
    }
}
