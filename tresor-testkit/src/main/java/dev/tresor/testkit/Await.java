package dev.tresor.testkit;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * How the tests wait for something another thread or process does: poll a condition until a
 * deadline, then fail naming what was awaited. Never a fixed sleep; the deadline is a hang guard,
 * not a speed assertion, so it is generous.
 */
public final class Await {

    /** The default deadline: long enough for a loaded 2-core CI machine. */
    public static final Duration LONG = Duration.ofSeconds(60);

    private static final long POLL_MILLIS = 20;

    private Await() {}

    public static void until(String what, BooleanSupplier condition) {
        until(what, LONG, condition);
    }

    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        value(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    /** Polls until {@code probe} yields a value, and returns it. */
    public static <T> T value(String what, Duration timeout, Supplier<Optional<T>> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> got = probe.get();
            if (got.isPresent()) {
                return got.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what, e);
            }
        }
    }
}
