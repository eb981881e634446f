package dev.tresor.rotation;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * TEST HOOK, documented in docs/rotation.md: with {@code TRESOR_ROTATE_CRASH_AT=<step>} in the
 * environment, the rotation process kills itself with SIGKILL right after that step completes
 * (falling back to {@link Runtime#halt} with status 137 if {@code kill} cannot be run). This is how
 * the fault-matrix tests crash a real rotation process at every step boundary. Nothing is flushed,
 * no finally block or shutdown hook runs: exactly what a kill -9, an OOM kill or a node loss does.
 */
public final class CrashHook implements StepHook {

    public static final String VARIABLE = "TRESOR_ROTATE_CRASH_AT";

    private final Step crashAt;

    private CrashHook(Step crashAt) {
        this.crashAt = crashAt;
    }

    /** The hook the environment asks for, or {@link StepHook#NONE}. */
    public static StepHook fromEnvironment(Map<String, String> env) {
        String value = env.get(VARIABLE);
        if (value == null || value.isBlank()) {
            return NONE;
        }
        try {
            return new CrashHook(Step.parse(value.trim()));
        } catch (IllegalArgumentException e) {
            throw new RotationException(RotationException.Kind.CONFIG, VARIABLE + ": " + e.getMessage());
        }
    }

    @Override
    public void reached(Step step) {
        if (step != crashAt) {
            return;
        }
        long pid = ProcessHandle.current().pid();
        try {
            Process kill = new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start();
            kill.waitFor(5, TimeUnit.SECONDS);
            Thread.sleep(5_000); // SIGKILL is asynchronous; never run on past the boundary
        } catch (IOException e) {
            // No kill(1): halt below.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(137);
    }
}
