package dev.tresor.store;

import java.util.function.Function;

/**
 * Where Tresor keeps its rows. Two implementations share one contract and one test suite:
 * SQLite (embedded default) and PostgreSQL (several server nodes on one database).
 *
 * <p>An acknowledged {@link #write} is durable: it has been committed with the database's full
 * durability setting before this method returns.
 */
public interface Store extends AutoCloseable {

    /** Runs {@code work} against a consistent view; no locks are held afterwards. */
    <T> T read(Function<StoreReader, T> work);

    /** Runs {@code work} in one transaction; commits if it returns, rolls back if it throws. */
    <T> T write(Function<StoreWriter, T> work);

    /** The connection pool's use now, for metrics; empty for a store without one. */
    default java.util.Optional<PoolUse> poolUse() {
        return java.util.Optional.empty();
    }

    /**
     * An opaque value that equals an earlier one only if nothing was committed to the database in
     * between: by this process, another node, or anyone else writing it directly. Taken before a
     * {@link #read}, it lets rows verified in that read (or any later one) be reused for as long
     * as the token stays the same. Failing to tell returns a value equal to no other.
     */
    Object changeToken();

    /**
     * True if the schema migration to {@code schemaVersion} (e.g. "2") was applied when this store
     * was opened, by this process: a one-time conversion it started may then be finished.
     */
    boolean migratedNow(String schemaVersion);

    /**
     * Calls {@code listener} whenever changes may have been recorded: at once after a commit of
     * this process that recorded some, soon after one by another process or node (SQLite: the
     * wal-index header is polled; PostgreSQL: LISTEN/NOTIFY), and every {@link StoreConfig#changeRecheck()} regardless, so
     * a lost notification delays a wake-up but never silences it. The listener re-reads the
     * change table itself; calls may be spurious. Closing stops the calls.
     */
    AutoCloseable watchChanges(Runnable listener);

    /**
     * The notification connection behind {@link #watchChanges} (PostgreSQL); empty for a store
     * that has none (SQLite polls its wal-index instead).
     */
    default java.util.Optional<ChangeListenerStatus> changeListener() {
        return java.util.Optional.empty();
    }

    /** "sqlite" or "postgresql". */
    String kind();

    /** True if the database answers (used by the readiness probe). */
    boolean ping();

    @Override
    void close();
}
