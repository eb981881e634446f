package dev.tresor.model;

/**
 * A refusal with a message meant for the caller. The message never contains secret values or
 * internal details; it says what was wrong and, where possible, what to do instead.
 */
public class TresorException extends RuntimeException {

    private final Failure failure;

    public TresorException(Failure failure, String message) {
        super(message, null, false, false);
        this.failure = failure;
    }

    public TresorException(Failure failure, String message, Throwable cause) {
        super(message, cause, false, false);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }

    public static TresorException badRequest(String message) {
        return new TresorException(Failure.BAD_REQUEST, message);
    }

    public static TresorException notFound(String message) {
        return new TresorException(Failure.NOT_FOUND, message);
    }

    public static TresorException forbidden(String message) {
        return new TresorException(Failure.FORBIDDEN, message);
    }

    public static TresorException conflict(String message) {
        return new TresorException(Failure.CONFLICT, message);
    }
}
