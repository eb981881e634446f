package dev.tresor.store;

import java.nio.file.Path;

/**
 * How to reach the store. {@code sqlite}: a file path; {@code postgresql}: a JDBC URL and
 * credentials. The password is held as given; it is never logged.
 */
public record StoreConfig(String kind, Path sqlitePath, String jdbcUrl, String user, String password, int poolSize) {

    public static StoreConfig sqlite(Path file) {
        return new StoreConfig("sqlite", file, null, null, null, 8);
    }

    public static StoreConfig postgresql(String jdbcUrl, String user, String password) {
        return new StoreConfig("postgresql", null, jdbcUrl, user, password, 10);
    }

    @Override
    public String toString() {
        return "StoreConfig[kind=" + kind + ", sqlitePath=" + sqlitePath + ", jdbcUrl=" + jdbcUrl + ", user=" + user
                + ", poolSize=" + poolSize + "]";
    }
}
