package dev.tresor.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * A fresh, empty database on the shared embedded PostgreSQL, from
 * {@link EmbeddedPostgres#freshDatabase()}.
 *
 * <p>{@code user} is a dedicated login role that owns the database and is no superuser, and
 * {@code password} is really checked (SCRAM-SHA-256), so a server under test connects with the
 * same kind of credentials it would get in production and a wrong password really fails.
 *
 * @param jdbcUrl  {@code jdbc:postgresql://localhost:<port>/<name>}, without credentials
 * @param user     login role owning the database
 * @param password that role's password
 * @param name     database name, unique within the JVM's PostgreSQL server
 */
public record PostgresDatabase(String jdbcUrl, String user, String password, String name) {

    /** Opens a connection as {@link #user()}; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, user, password);
    }

    /** Keeps the password out of test reports and logs. */
    @Override
    public String toString() {
        return "PostgresDatabase[jdbcUrl=" + jdbcUrl + ", user=" + user + ", password=***, name=" + name + "]";
    }
}
