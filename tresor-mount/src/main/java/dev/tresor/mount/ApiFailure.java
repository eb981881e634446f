package dev.tresor.mount;

/**
 * Why an API call gave no answer to use. {@code status} is the HTTP status, or 0 when the server
 * could not be reached at all (refused, reset, timed out) so the caller maps it to EIO.
 * The message never carries a value: only the request's path, status and the server's error text.
 */
final class ApiFailure extends Exception {

    private final int status;

    ApiFailure(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    ApiFailure(int status, String message) {
        this(status, message, null);
    }

    int status() {
        return status;
    }

    boolean unreachable() {
        return status == 0;
    }
}
