package dev.tresor.audit;

import dev.tresor.crypto.KeyProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Checks an audit log ({@code tresor audit verify}): the header's chain key unwraps under the KEK,
 * and every line parses, is an event, continues the seq, links to its predecessor's MAC and
 * carries a valid MAC of its own; then the anchor, if present, must name a record the file still
 * holds. Reports the first problem only: after it, nothing in the file can be trusted anyway.
 */
public final class AuditVerifier {

    private AuditVerifier() {}

    public static VerificationResult verify(Path logFile, KeyProvider kek) {
        Objects.requireNonNull(logFile, "logFile");
        Objects.requireNonNull(kek, "kek");
        if (!Files.isRegularFile(logFile)) {
            return VerificationResult.bad(0, -1, Files.exists(logFile)
                    ? logFile + " is not a regular file"
                    : logFile + " does not exist");
        }
        ChainScan.Result scan;
        try {
            scan = ChainScan.scan(logFile, kek);
        } catch (NoSuchFileException e) {
            return VerificationResult.bad(0, -1, logFile + " does not exist");
        } catch (IOException e) {
            return VerificationResult.bad(0, -1, "cannot read " + logFile + ": " + e.getMessage());
        }
        ChainScan.Problem problem = scan.firstProblem();
        if (problem != null) {
            return VerificationResult.bad(scan.records(), problem.line(), problem.message());
        }
        return VerificationResult.good(scan.records(), FileAuditSink.ACTION_CLOSE.equals(scan.lastAction()));
    }
}
