package dev.tresor.agent.render;

import java.nio.file.Path;

/**
 * Called by {@link AtomicWriter} after half of a temporary file is written and before the rest.
 * Production uses {@link #NONE}; the crash test uses {@link #pauseOnce(Path)} to get an agent
 * that is provably mid-render when it is SIGKILLed.
 */
@FunctionalInterface
public interface WriteHook {

    WriteHook NONE = temp -> { };

    void halfWritten(Path temp);

    /** Creates {@code marker} and parks the writing thread forever (until the process is killed). */
    static WriteHook pauseOnce(Path marker) {
        return temp -> {
            try {
                java.nio.file.Files.writeString(marker, temp.toString());
                while (true) {
                    Thread.sleep(Long.MAX_VALUE);
                }
            } catch (java.io.IOException | InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }
}
