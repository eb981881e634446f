package dev.tresor.cli;

import java.util.Optional;

/**
 * Keeps at least two carrier threads under the virtual threads. Audit records are written by the
 * requests' virtual threads, and a write to a regular file holds its carrier for the whole system
 * call: on a machine (or a container limited to) one CPU, a disk hanging inside that write would
 * otherwise stall every request instead of letting them fail with 503 at the audit write timeout
 * (SPEC §2.5: a stuck sink never hangs the server). An operator's own {@code -Djdk.virtualThreadScheduler.parallelism} wins.
 */
final class CarrierThreads {

    static final String PARALLELISM = "jdk.virtualThreadScheduler.parallelism";
    static final int MINIMUM = 2;

    private CarrierThreads() {}

    /** Must run before the first virtual thread starts: the scheduler reads the property once. */
    static void keepAtLeastTwo() {
        parallelismFor(Runtime.getRuntime().availableProcessors(), System.getProperty(PARALLELISM))
                .ifPresent(value -> System.setProperty(PARALLELISM, value));
    }

    /** The parallelism to set, if any, given the processors the JVM sees and the operator's setting. */
    static Optional<String> parallelismFor(int processors, String configured) {
        if (configured != null || processors >= MINIMUM) {
            return Optional.empty();
        }
        return Optional.of(Integer.toString(MINIMUM));
    }
}
