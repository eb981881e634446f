package dev.tresor.rotation.target;

import dev.tresor.rotation.RotationException;
import java.sql.SQLException;

/** Shared JDBC error handling: never lets a driver message that may quote SQL reach output. */
final class Jdbc {

    private Jdbc() {}

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
