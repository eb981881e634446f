package dev.tresor.audit;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** A destination of audit records (a local chained file, later perhaps syslog or a remote store). */
public interface AuditSink extends AutoCloseable {

    /**
     * Writes one record. Returns only after the record has been handed to the operating system
     * (the write system call has completed), so a process killed right after this returns has
     * lost nothing it acknowledged. Durability against power loss (fsync) may be batched by the
     * implementation. Must be safe to call from many threads at once.
     *
     * @throws IOException if the record could not be written; the caller must treat the record
     *                     as not audited
     */
    void append(AuditEvent event) throws IOException;

    /**
     * Starts {@link #append} without waiting for other writers: the future completes when the
     * record has been handed to the operating system, or fails with the {@link IOException}. A sink
     * may write on the caller's thread when that needs no waiting (the file sink does). A sink that
     * can only write by blocking keeps this default, which runs {@link #append} on one of
     * {@code blockingWriters}' threads, so a stuck sink still cannot hold up the caller.
     */
    default CompletableFuture<?> appendAsync(AuditEvent event, Executor blockingWriters) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        blockingWriters.execute(() -> {
            try {
                append(event);
                done.complete(null);
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            } catch (Error e) {
                done.completeExceptionally(e);
                throw e;
            }
        });
        return done;
    }

    /**
     * Writes {@code events} in order, as {@link #append} would one by one; a sink that can send
     * several in one write (syslog over TLS) overrides this. On an IOException some of them may
     * have been written.
     */
    default void appendAll(java.util.List<AuditEvent> events) throws IOException {
        for (AuditEvent event : events) {
            append(event);
        }
    }

    /** A short, non-secret name for logs and metrics, e.g. {@code file:/var/lib/tresor/audit.log}. */
    String name();

    @Override
    void close() throws IOException;
}
