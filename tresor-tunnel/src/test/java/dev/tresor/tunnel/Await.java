package dev.tresor.tunnel;

import java.time.Duration;
import java.util.function.BooleanSupplier;

final class Await {

    private Await() {}

    /** Polls until {@code condition} holds, failing with {@code what} after {@code timeout}. */
    static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
