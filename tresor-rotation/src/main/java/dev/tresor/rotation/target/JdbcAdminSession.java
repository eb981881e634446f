package dev.tresor.rotation.target;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What both targets' admin sessions do the same way: hold the one admin connection for the run,
 * run statements and yes/no questions whose failures are described by the action (through
 * {@link Jdbc}, never with the SQL, which may carry a password hash), and close it, which also
 * frees the run's advisory lock on the server.
 */
abstract class JdbcAdminSession implements AdminSession {

    protected final Connection conn;
    /** The application database the slot users work in. */
    protected final String database;

    JdbcAdminSession(Connection conn, String database) {
        this.conn = conn;
        this.database = database;
    }

    protected final void exec(String action, String sql) {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw Jdbc.adminFailure(action, e);
        }
    }

    /** The first column of the first row as a boolean; false when there is no row or it is NULL. */
    protected final boolean ask(String action, String sql, Object... args) {
        try (PreparedStatement s = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw Jdbc.adminFailure(action, e);
        }
    }

    @Override
    public final void close() {
        try {
            conn.close();
        } catch (SQLException e) {
            // The server ends the session, and with it the lock, either way.
        }
    }
}
