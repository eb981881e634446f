package dev.tresor.rotation.target;

import dev.tresor.rotation.DbCredentials;

/**
 * The database whose users are rotated. Implementations speak one SQL dialect; every connection
 * uses the configured TLS mode. Nothing here ever logs or throws a password: errors carry the user
 * name and the database's error code or SQL state only.
 */
public interface DatabaseTarget {

    /** The answer to "does this password log in?". */
    enum Login {
        /** The password is right (the account may still lack privileges: see {@link #probe}). */
        OK,
        /** The server refused the user name/password (or the user does not exist). */
        REFUSED
    }

    /**
     * Tries to log in with {@code credentials} and closes the connection at once.
     *
     * @throws dev.tresor.rotation.RotationException (UNAVAILABLE) if the server cannot be reached at all
     */
    Login tryLogin(DbCredentials credentials);

    /**
     * Logs in as {@code credentials} and runs {@code sql}; it must succeed and return at least one row.
     *
     * @throws ProbeFailure naming what failed (never the password)
     */
    void probe(DbCredentials credentials, String sql) throws ProbeFailure;

    /** Opens an administrative session (creates users, sets passwords, grants, holds the run's lock). */
    AdminSession admin(DbCredentials admin, String appDatabase);

    /** What {@link #probe} throws: a message fit for output. */
    final class ProbeFailure extends Exception {
        public ProbeFailure(String message) {
            super(message, null, false, false);
        }
    }
}
