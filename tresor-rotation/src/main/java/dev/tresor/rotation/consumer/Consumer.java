package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where the application picks up the active slot's credentials ({@code file}, {@code command}),
 * or how the rotation sees that it came back ({@code http-check}).
 */
public interface Consumer {

    /** A pair the consumer may currently hold. */
    record Candidate(Slot slot, DbCredentials credentials) {}

    /** One line for output, e.g. "file /etc/app/db.php"; never a value. */
    String describe();

    /** Puts these credentials where the application reads them (file), or restarts it (command). */
    void deliver(DbCredentials credentials, Slot slot) throws ConsumerFailure;

    /**
     * Which candidate this consumer holds right now, if it can tell (a file can; a command cannot).
     * {@code Optional.empty()} with {@link #canTell()} true means it holds none of them.
     */
    default Optional<Candidate> holds(List<Candidate> candidates) {
        return Optional.empty();
    }

    /** Whether {@link #holds} means anything. */
    default boolean canTell() {
        return false;
    }

    /** Waits until the application answers as expected (http-check); others return at once. */
    default void awaitReady(Duration timeout) throws ConsumerFailure {}

    /** One validation check (http-check); others pass. */
    default void check() throws ConsumerFailure {}

    /** Whether a failed {@link #check} / {@link #awaitReady} fails the rotation (else it is a warning). */
    default boolean fatal() {
        return true;
    }

    /** Problems that would make {@link #deliver} or {@link #check} fail, for {@code tresor rotate verify}. */
    List<String> preflight();

    /** A consumer failure with a message fit for output. */
    final class ConsumerFailure extends Exception {
        public ConsumerFailure(String message) {
            super(message, null, false, false);
        }
    }
}
