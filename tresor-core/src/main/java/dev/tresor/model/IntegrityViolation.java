package dev.tresor.model;

/**
 * A stored row failed authentication (MAC, digest or AEAD check): someone changed the database
 * without the KEK. The row is treated as absent for access purposes (fail closed). {@code subject}
 * names the row (e.g. "client alice", "secret db/password v3") for the audit log; never a value.
 */
public final class IntegrityViolation extends TresorException {

    private final String subject;
    private final String problem;

    public IntegrityViolation(String subject, String problem) {
        this(Failure.INTEGRITY, subject, problem);
    }

    public IntegrityViolation(Failure failure, String subject, String problem) {
        this(failure, "integrity check failed for " + subject + "; access refused and the event has been audited",
                subject, problem);
    }

    private IntegrityViolation(Failure failure, String message, String subject, String problem) {
        super(failure, message);
        this.subject = subject;
        this.problem = problem;
    }

    /**
     * The store does not open. The message goes to the operator starting the server (never to a
     * client), so it carries the whole problem and what to do about it.
     */
    public static IntegrityViolation refusingToOpen(String subject, String problem, String remedy) {
        return new IntegrityViolation(Failure.INTEGRITY,
                "refusing to open the store: integrity check failed for " + subject + ": " + problem + ". " + remedy,
                subject, problem);
    }

    public String subject() {
        return subject;
    }

    /** The operator-facing explanation (for logs and audit detail, not for the client). */
    public String problem() {
        return problem;
    }
}
