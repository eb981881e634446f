package dev.tresor.ui;

/** The console cannot start as asked (a refused bind address, a port in use); the message says what to change. */
public final class ConsoleException extends RuntimeException {

    public ConsoleException(String message) {
        super(message);
    }

    public ConsoleException(String message, Throwable cause) {
        super(message, cause);
    }
}
