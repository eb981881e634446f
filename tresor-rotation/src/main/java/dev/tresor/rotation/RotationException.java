package dev.tresor.rotation;

/**
 * A rotation failure to report in one line that says what to fix. Never carries a password: the
 * messages are built from names, versions and SQL states only.
 */
public final class RotationException extends RuntimeException {

    /** What kind of failure; the CLI maps these to exit codes. */
    public enum Kind {
        /** The rotation definition (YAML) is wrong. */
        CONFIG,
        /** What Tresor or the database holds is inconsistent in a way that needs a person (the message names the fix). */
        STATE,
        /** Another rotation of the same definition holds the lock. */
        BUSY,
        /** Tresor, the database or a consumer cannot be reached. */
        UNAVAILABLE,
        /** Tresor refused this identity. */
        DENIED,
        /** Validation of the new credentials failed; consumers were rolled back to the last working slot. */
        ROLLED_BACK,
        /** A step failed for another reason. */
        FAILED
    }

    private final Kind kind;

    public RotationException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public RotationException(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
