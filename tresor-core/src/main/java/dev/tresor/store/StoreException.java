package dev.tresor.store;

/** The database failed (I/O, connection, SQL); never the caller's fault. */
public class StoreException extends RuntimeException {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
