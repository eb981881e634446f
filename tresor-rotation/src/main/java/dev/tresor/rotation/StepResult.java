package dev.tresor.rotation;

import java.time.Duration;

/** How one step went: one line of output. {@code detail} never holds a secret value. */
public record StepResult(Step step, Outcome outcome, Duration duration, String detail) {

    public enum Outcome {
        /** Done (or already true, see detail). */
        OK,
        /** Nothing to do. */
        SKIPPED,
        /** Dry run: what would happen. */
        PLANNED,
        FAILED
    }

    /** e.g. {@code "  7 set-password      12 ms  ok   set on app_b"}. */
    public String line() {
        return String.format("%3d %-15s %6d ms  %-7s %s", step.ordinal() + 1, step.wireName(), duration.toMillis(),
                outcome.name().toLowerCase(java.util.Locale.ROOT), detail);
    }
}
