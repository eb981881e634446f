package dev.tresor.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Run in a JVM that sees one processor: one virtual thread holds its carrier (as an audit write
 * hung in the kernel would), then another must still run. Prints and exits 0 if it did, 3 if not.
 * With the argument {@code unguarded} it skips {@link CarrierThreads}, to show the probe can fail.
 */
public final class CarrierProbe {

    private CarrierProbe() {}

    public static void main(String[] args) throws InterruptedException {
        boolean guarded = args.length == 0 || !args[0].equals("unguarded");
        if (guarded) {
            CarrierThreads.keepAtLeastTwo();
        }
        CountDownLatch holding = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            holding.countDown();
            while (true) {
                Thread.onSpinWait(); // never yields its carrier
            }
        });
        holding.await();
        Thread other = Thread.ofVirtual().start(() -> { });
        boolean ran = other.join(Duration.ofSeconds(guarded ? 20 : 2));
        System.out.println(ran ? "ran" : "starved");
        System.out.flush();
        Runtime.getRuntime().halt(ran ? 0 : 3);
    }
}
