package dev.tresor.rotation.target;

/**
 * One administrative connection, open for a whole rotation run. It also holds the run's lock: a
 * database advisory lock that the server frees by itself when the session ends, so a killed run
 * never leaves a lock behind.
 */
public interface AdminSession extends AutoCloseable {

    /** Takes the advisory lock named {@code name} without waiting; false if another session holds it. */
    boolean tryLock(String name);

    /**
     * Whether this session still holds the lock {@link #tryLock} took. False (or a failure) once the
     * session was cut (the database restarted, an operator or a network fault ended it): the lock is
     * then free, another node may already be running the rotation, and this run must stop.
     */
    boolean holdsLock(String name);

    boolean userExists(String user);

    /** Creates a login user with this password, in one statement (so a crash leaves no user without a password). */
    void createUser(String user, String password);

    /** Sets a user's password (sent as a hash/verifier where the database allows, so it is not in server logs). */
    void setPassword(String user, String password);

    /** Sets the admin session's own password. */
    void setOwnPassword(String user, String password);

    /** Whether {@code user} is a member of the application role (its privileges come only from there). */
    boolean hasRole(String user);

    /** A description of everything {@link #ensurePrivileges} manages for {@code user}; changes when they drift. */
    String privilegeSnapshot(String user);

    /** Creates the application role if missing, grants it the declared privileges, and makes {@code user} use it. */
    void ensurePrivileges(String user);

    @Override
    void close();
}
