package dev.tresor.rotation.target;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.target.DatabaseTarget.ProbeFailure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Shared JDBC error handling: never lets a driver message that may quote SQL reach output. */
final class Jdbc {

    private Jdbc() {}

    /** How a target opens a connection (its driver's TLS and timeout settings); a null database means none. */
    @FunctionalInterface
    interface Connector {
        Connection open(DbCredentials credentials, String database) throws SQLException;
    }

    /** {@link DatabaseTarget#probe}: log in to the application database as {@code c}; {@code sql} must return a row. */
    static void probe(Connector connector, DbCredentials c, String sql) throws ProbeFailure {
        try (Connection conn = connector.open(c, c.dbname()); Statement s = conn.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new ProbeFailure("validation query returned no row as " + c.username());
            }
        } catch (SQLException e) {
            throw new ProbeFailure("validation query as " + c.username() + " failed: " + describe(e));
        }
    }

    /** {@link DatabaseTarget#admin}: the connection for an admin session, or a failure naming the admin user. */
    static Connection adminConnection(Connector connector, DbCredentials admin, String database) {
        try {
            return connector.open(admin, database);
        } catch (SQLException e) {
            throw adminFailure("admin login as " + admin.username(), e);
        }
    }

    static boolean unreachable(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("08");
    }

    /** A failure of an admin statement, described by what was being done and the server's code, never the SQL text. */
    static RotationException adminFailure(String action, SQLException e) {
        return new RotationException(unreachable(e) ? RotationException.Kind.UNAVAILABLE : RotationException.Kind.FAILED,
                action + " failed: " + describe(e));
    }

    /** The driver's message's first line without anything after "Query is" / SQL text, plus the codes. */
    static String describe(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
        int query = message.indexOf("Query is");
        if (query >= 0) {
            message = message.substring(0, query).trim();
        }
        if (message.toUpperCase(java.util.Locale.ROOT).contains("PASSWORD '") || message.contains("IDENTIFIED")) {
            message = "(message withheld: it quotes a statement)";
        }
        return message + " [SQLState " + e.getSQLState() + ", code " + e.getErrorCode() + "]";
    }
}
