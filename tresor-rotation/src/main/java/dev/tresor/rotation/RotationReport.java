package dev.tresor.rotation;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of a run, for {@code --json}: which slot was active before and after, every step, and
 * what was healed on the way. Holds no secret value.
 */
public record RotationReport(String rotation, boolean dryRun, Slot activeBefore, Slot activeAfter, List<StepResult> steps,
                             List<String> healed, Duration total, String error, String errorKind) {

    public boolean ok() {
        return error == null;
    }
}
