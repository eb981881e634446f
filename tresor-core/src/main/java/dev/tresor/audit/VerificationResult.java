package dev.tresor.audit;

/**
 * The verdict of {@link AuditVerifier#verify}.
 *
 * @param ok            true if every line verified and the anchor (if any) agrees
 * @param records       how many records after the header verified (event and audit-system records)
 * @param firstBadLine  1-based line number of the first problem, or -1 (no problem, or a problem
 *                      that belongs to no line, such as an unreadable anchor file)
 * @param problem       a sentence naming the line and what is wrong, or null when {@code ok}
 * @param cleanlyClosed true if the log verified and its last record is the writer's close record,
 *                      i.e. the last writer shut down in order rather than crashing
 * @param segments      how many files (segments) were verified as one chain
 * @param firstSeq      the seq of the first record verified: 1, or later when the earlier
 *                      segments were not given (archived or deleted)
 */
public record VerificationResult(boolean ok, long records, long firstBadLine, String problem, boolean cleanlyClosed,
                                 int segments, long firstSeq) {

    static VerificationResult good(long records, boolean cleanlyClosed) {
        return new VerificationResult(true, records, -1, null, cleanlyClosed, 1, 1);
    }

    static VerificationResult bad(long records, long firstBadLine, String problem) {
        return new VerificationResult(false, records, firstBadLine, problem, false, 1, 1);
    }

    VerificationResult across(int segments, long firstSeq) {
        return new VerificationResult(ok, records, firstBadLine, problem, cleanlyClosed, segments, firstSeq);
    }
}
