package dev.tresor.store;

/** An insert collided with an existing row (a primary-key or unique constraint). */
public class StoreConflictException extends StoreException {

    public StoreConflictException(String message, Throwable cause) {
        super(message, cause);
    }
}
