package dev.tresor.rotation.it;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * A real database server started by a test class, with a test-only superuser for set-up and
 * assertions (never the rotation's admin). TLS is on: {@link #caFile()} verifies its certificate.
 */
interface TestDatabase extends AutoCloseable {

    /** mariadb or postgresql. */
    String kind();

    int port();

    Path caFile();

    /** TLS mode the rotation uses against this server. */
    String tlsMode();

    /** A superuser connection (test-only account) to {@code database}, or the server default if null. */
    Connection superuser(String database) throws SQLException;

    /**
     * Creates an application database (with a {@code gate(u)} table listing {@code slotUsers}) and
     * an admin user that may manage users and grants, the way an operator prepares a rotation.
     */
    void prepare(String database, String adminUser, String adminPassword, String... slotUsers) throws SQLException;

    /** Whether user/password logs in over TLS (a fresh connection). */
    boolean canLogin(String user, String password, String database);

    /** A JDBC URL for an application connection with TLS verified against {@link #caFile()}. */
    String appUrl(String database);

    /** Everything about users, passwords (hashes) and grants, byte-comparable between two calls. */
    String usersFingerprint(String database) throws SQLException;

    /** Sets a user's password behind Tresor's back (drift). */
    void setPassword(String user, String password) throws SQLException;

    void dropUser(String user) throws SQLException;

    /**
     * Takes the application role away from a user and a privilege away from the role (drift), as the
     * rotation's admin (on MariaDB only the role's creator may revoke it).
     */
    void dropPrivileges(String user, String role, String database, String admin, String adminPassword) throws SQLException;

    /**
     * Ends the database session that holds the advisory lock of rotation {@code rotation} (a node
     * whose connection was cut), and returns once the lock is free; true if a holder was found.
     */
    boolean cutRotationLockHolder(String rotation, String adminUser) throws SQLException;

    /** The validation query the rigs use: passes iff the session's login user is listed in gate. */
    String gateProbe();

    /** The rotation definition's grants for this kind. */
    String grantsYaml();

    @Override
    void close();
}
