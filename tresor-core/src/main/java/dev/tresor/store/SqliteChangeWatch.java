package dev.tresor.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
 * <p>One statement on one connection behind a lock: a check is a single in-memory look at the
 * WAL index (about a microsecond), cheaper than borrowing a pooled connection.
 */
final class SqliteChangeWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SqliteChangeWatch.class);

    private final ReentrantLock lock = new ReentrantLock();
    private final DataSource source;
    private Connection connection;
    private PreparedStatement dataVersion;
    private long lastSeen = Long.MIN_VALUE;
    private long generation;
    private boolean warned;

    SqliteChangeWatch(DataSource source) {
        this.source = source;
    }

    /** The current generation; a new one after any commit since the previous call. */
    Object token() {
        lock.lock();
        try {
            if (dataVersion == null) {
                connection = source.getConnection();
                connection.setAutoCommit(true);
                dataVersion = connection.prepareStatement("PRAGMA data_version");
            }
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

    @Override
    public void close() {
        lock.lock();
        try {
            closeQuietly();
        } finally {
            lock.unlock();
        }
    }

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
        generation++;
    }
}
