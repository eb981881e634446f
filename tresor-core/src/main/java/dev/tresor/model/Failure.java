package dev.tresor.model;

/**
 * Why an operation was refused. Each kind maps to one HTTP status and one CLI exit code, so a
 * client always learns what to fix without seeing any internals.
 */
public enum Failure {
    BAD_REQUEST(400),
    UNAUTHENTICATED(401),
    FORBIDDEN(403),
    NOT_FOUND(404),
    CONFLICT(409),
    GONE(410),
    TOO_LARGE(413),
    UNSUPPORTED_MEDIA_TYPE(415),
    /** Well-formed but not acceptable as sent (an Idempotency-Key reused for another request). */
    UNPROCESSABLE(422),
    /** A stored row failed its integrity check: refused, counted and audited (fail closed). */
    INTEGRITY(500),
    UNAVAILABLE(503);

    private final int httpStatus;

    Failure(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
