package dev.tresor.audit;

/**
 * No audit sink confirmed a record in time. Tresor fails closed on this: the request it belongs
 * to must be answered with 503 and must not release anything, because an unaudited access would
 * break the promise that every access is on record.
 */
public class AuditUnavailableException extends RuntimeException {

    public AuditUnavailableException(String message) {
        super(message);
    }

    public AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
