package dev.tresor.store;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How to reach the store. {@code sqlite}: a file path; {@code postgresql}: a JDBC URL and
 * credentials. The password is held as given; it is never logged.
 */
public record StoreConfig(String kind, Path sqlitePath, String jdbcUrl, String user, String password, int poolSize,
                          Duration changeRecheck) {

    /**
     * How often the change watch re-reads the change table even without a notification: the
     * longest a lost notification can delay a change feed wake-up on another node. Access checks
     * never depend on it (they compare {@link Store#changeToken()} on every request).
     */
    public static final Duration DEFAULT_CHANGE_RECHECK = Duration.ofSeconds(5);

    public StoreConfig {
        if (changeRecheck == null) {
            changeRecheck = DEFAULT_CHANGE_RECHECK;
        }
        if (changeRecheck.toMillis() < 10) {
            throw new IllegalArgumentException("changeRecheck must be at least 10ms");
        }
    }

    public StoreConfig(String kind, Path sqlitePath, String jdbcUrl, String user, String password, int poolSize) {
        this(kind, sqlitePath, jdbcUrl, user, password, poolSize, DEFAULT_CHANGE_RECHECK);
    }

    public StoreConfig withChangeRecheck(Duration every) {
        return new StoreConfig(kind, sqlitePath, jdbcUrl, user, password, poolSize, every);
    }

    public static StoreConfig sqlite(Path file) {
        return new StoreConfig("sqlite", file, null, null, null, 8);
    }

    public static StoreConfig postgresql(String jdbcUrl, String user, String password) {
        return new StoreConfig("postgresql", null, jdbcUrl, user, password, 10);
    }

    @Override
    public String toString() {
        return "StoreConfig[kind=" + kind + ", sqlitePath=" + sqlitePath + ", jdbcUrl=" + jdbcUrl + ", user=" + user
                + ", poolSize=" + poolSize + ", changeRecheck=" + changeRecheck + "]";
    }
}
