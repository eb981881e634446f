package dev.tresor.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells whether anything was committed to a SQLite file, through one connection of its own that
 * never writes. SQLite's {@code PRAGMA data_version} on a connection changes whenever another
 * connection, in this process or any other, commits; since this connection never writes, every
 * commit counts. A counter turns the (only locally comparable) data versions into tokens.
 *
 * <p><b>Fast path: the WAL-index header.</b> The statement above takes and drops a read lock on
 * the {@code -shm} file (two {@code fcntl} calls) for every request. In WAL mode every commit, by
 * any process, publishes itself by rewriting the header at the start of that file (the
 * <a href="https://www.sqlite.org/walformat.html">documented</a> wal-index header: a change
 * counter, the last valid frame, salts and checksums), and SQLite writes its two copies of the
 * header one after the other so that a reader without a lock can tell a consistent read (both
 * copies equal) from a torn one. So a positional read of those 96 bytes tells the same as the
 * statement, with one system call and no lock: equal bytes, no commit published in between. A
 * torn read, an uninitialised or unknown header, or a file that cannot be read falls back to the
 * statement; switching between the two always starts a new generation, so a change is never
 * missed, at worst a cache is dropped once for nothing.
 *
 * <p>The watch connection, opened first, keeps the {@code -shm} file in place while it lives.
 * The header's file handle is closed only in {@link #close()}, after that connection: POSIX
 * drops every {@code fcntl} lock a process holds on a file when it closes <em>any</em> descriptor
 * of it, and SQLite's own connections hold their wal-index locks that way, so closing it while
 * they are open would silently release their locks.
 */
final class SqliteChangeWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SqliteChangeWatch.class);

    /** Two copies of the 48-byte wal-index header. */
    static final int HEADER_BYTES = 48;
    /** {@code iVersion} of the wal-index header SQLite has written since 3.7.0. */
    private static final int WAL_INDEX_VERSION = 3007000;

    private final ReentrantLock lock = new ReentrantLock();
    private final DataSource source;
    private final Path walIndex;
    private Connection connection;
    private PreparedStatement dataVersion;
    private long lastSeen = Long.MIN_VALUE;
    private FileChannel walIndexFile;
    private boolean walIndexUnusable;
    /** SQLite keeps the wal-index in the machine's byte order. */
    private final ByteBuffer headers = ByteBuffer.allocate(2 * HEADER_BYTES).order(java.nio.ByteOrder.nativeOrder());
    private byte[] lastHeader;
    private long generation;
    private boolean warned;
    private long fallbacks;

    /**
     * @param database the SQLite file; its wal-index is the file beside it named with {@code -shm}
     */
    SqliteChangeWatch(DataSource source, Path database) {
        this.source = source;
        this.walIndex = database.resolveSibling(database.getFileName() + "-shm");
    }

    /** The current generation; a new one after any commit since the previous call. */
    Object token() {
        lock.lock();
        try {
            if (dataVersion == null) {
                openConnection();
            }
            if (readWalIndexHeader()) {
                lastSeen = Long.MIN_VALUE; // the statement path, when next used, starts a generation
                byte[] header = headers.array();
                if (lastHeader == null || !Arrays.equals(header, 0, HEADER_BYTES, lastHeader, 0, HEADER_BYTES)) {
                    lastHeader = Arrays.copyOf(header, HEADER_BYTES);
                    generation++;
                }
                return generation;
            }
            fallbacks++;
            lastHeader = null; // likewise for the header path
            long seen;
            try (ResultSet rs = dataVersion.executeQuery()) {
                rs.next();
                seen = rs.getLong(1);
            }
            if (seen != lastSeen) {
                lastSeen = seen;
                generation++;
            }
            return generation;
        } catch (SQLException e) {
            if (!warned) {
                warned = true;
                log.warn("cannot watch the SQLite file for changes ({}); verified rows are not reused while this lasts",
                        e.getMessage());
            }
            closeQuietly();
            // A token equal to nothing: callers fall back to reading and verifying every row.
            return new Object();
        } finally {
            lock.unlock();
        }
    }

    /** How many tokens came from the statement rather than the header (for tests). */
    long fallbacks() {
        lock.lock();
        try {
            return fallbacks;
        } finally {
            lock.unlock();
        }
    }

    private void openConnection() throws SQLException {
        connection = source.getConnection();
        connection.setAutoCommit(true);
        dataVersion = connection.prepareStatement("PRAGMA data_version");
        // The first statement opens the database, which creates the wal-index if it was missing.
        try (ResultSet rs = dataVersion.executeQuery()) {
            rs.next();
        }
    }

    /** Reads both copies of the header into {@link #headers}; true if they agree and look like a live WAL index. */
    private boolean readWalIndexHeader() {
        if (walIndexUnusable) {
            return false;
        }
        try {
            if (walIndexFile == null) {
                walIndexFile = FileChannel.open(walIndex, StandardOpenOption.READ);
            }
            headers.clear();
            while (headers.hasRemaining()) {
                if (walIndexFile.read(headers, headers.position()) < 0) {
                    return false; // shorter than two headers: not initialised yet
                }
            }
        } catch (IOException e) {
            // No -shm file (not WAL mode) or unreadable: the statement serves from now on.
            walIndexUnusable = true;
            log.debug("SQLite wal-index {} cannot be read ({}); using PRAGMA data_version", walIndex, e.getMessage());
            return false;
        }
        byte[] bytes = headers.array();
        if (!Arrays.equals(bytes, 0, HEADER_BYTES, bytes, HEADER_BYTES, 2 * HEADER_BYTES)) {
            return false; // a commit is publishing itself right now
        }
        boolean initialised = bytes[12] == 1;
        return headers.getInt(0) == WAL_INDEX_VERSION && initialised;
    }

    /** Closes the watch connection, then the header's file (call it after the store's pool is closed). */
    @Override
    public void close() {
        lock.lock();
        try {
            closeQuietly();
            try {
                if (walIndexFile != null) {
                    walIndexFile.close();
                }
            } catch (IOException ignored) {
                // a read-only channel: nothing to save
            }
            walIndexFile = null;
        } finally {
            lock.unlock();
        }
    }

    /** Drops the watch connection after a failure; the header's file stays open (see the class comment). */
    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // closing a watch connection that already failed: nothing to save
        }
        connection = null;
        dataVersion = null;
        lastSeen = Long.MIN_VALUE;
        lastHeader = null;
        generation++;
    }
}
