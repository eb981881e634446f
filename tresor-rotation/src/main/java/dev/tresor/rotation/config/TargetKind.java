package dev.tresor.rotation.config;

/** The database kind of a rotation target. {@code mysql} uses the MariaDB code path where the SQL is the same. */
public enum TargetKind {
    MARIADB("mariadb"),
    MYSQL("mysql"),
    POSTGRESQL("postgresql");

    private final String wireName;

    TargetKind(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
