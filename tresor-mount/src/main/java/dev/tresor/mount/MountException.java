package dev.tresor.mount;

/** A mount that could not be made; the message says what to do about it and is meant for the user as is. */
public final class MountException extends Exception {

    public MountException(String message) {
        super(message);
    }

    public MountException(String message, Throwable cause) {
        super(message, cause);
    }
}
